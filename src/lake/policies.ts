import { forbidden } from '../core/errors.js';

export const ROLES = ['read', 'write', 'admin', 'owner'] as const;
export type Role = (typeof ROLES)[number];

/** What each action needs in a namespace; roles rank owner > admin > write > read. */
const NEEDS = {
  read: 'read',
  write: 'write', // create, change or delete content (projects, datasets, collections, nodes)
  manage: 'admin', // namespace settings and members
  own: 'owner', // delete the namespace, grant or revoke ownership
} as const satisfies Record<string, Role>;

export type Action = keyof typeof NEEDS;

export function rank(role: string | null | undefined): number {
  return role ? ROLES.indexOf(role as Role) : -1;
}

export function allows(role: string | null | undefined, action: Action): boolean {
  return rank(role) >= rank(NEEDS[action]);
}

/** Callers who can read but not do `action` get a 403 (outsiders never get here: they see a 404). */
export function ensureAllowed(role: string | null | undefined, action: Action): void {
  if (!allows(role, action)) throw forbidden(`This needs the ${NEEDS[action]} role in the namespace.`);
}
