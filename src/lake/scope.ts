import { preparedQuery } from '../core/db/prepared-query.js';
import { notFound } from '../core/errors.js';
import type { LakeDb, NamespacesTable, NodesTable, ProjectsTable } from './db.js';
import { prefixedNodeColumns, splitNode, type PrefixedNode } from './nodes/columns.js';

export interface NamespaceScope {
  namespace: NamespacesTable;
  role: string;
}

export interface ProjectScope {
  namespaceId: string;
  role: string;
  project: ProjectsTable;
}

export const namespaceNotFound = () => notFound('Namespace not found or deleted.');
export const projectNotFound = () => notFound('Project not found or deleted.');

// Compiled once per dialect: nearly every DreamLake request starts with one of these two lookups.
const namespaceQuery = preparedQuery((db: LakeDb, _dialect, p: (name: 'userId' | 'slug') => string) =>
  db
    .selectFrom('namespaces as n')
    .innerJoin('namespace_members as m', (j) => j.onRef('m.namespace_id', '=', 'n.id').on('m.user_id', '=', p('userId')))
    .selectAll('n')
    .select('m.role')
    .where('n.slug', '=', p('slug'))
    .where('n.deleted_at', 'is', null),
);

// LEFT JOIN of the membership: a stranger still gets the row, and may read the project when it is public.
const projectScope = (db: LakeDb, p: (name: 'userId' | 'slug' | 'projectSlug') => string) =>
  db
    .selectFrom('namespaces as n')
    .leftJoin('namespace_members as m', (j) => j.onRef('m.namespace_id', '=', 'n.id').on('m.user_id', '=', p('userId')))
    .leftJoin('projects as p', (j) =>
      j.onRef('p.namespace_id', '=', 'n.id').on('p.slug', '=', p('projectSlug')).on('p.deleted_at', 'is', null),
    )
    .select(['n.id as namespaceId', 'm.role as memberRole'])
    .selectAll('p')
    .where('n.slug', '=', p('slug'))
    .where('n.deleted_at', 'is', null);

const projectQuery = preparedQuery((db: LakeDb, _dialect, p: (name: 'userId' | 'slug' | 'projectSlug') => string) => projectScope(db, p));

// The same, with the live node of that ID in that project LEFT JOINed: a node route's whole lookup.
const projectNodeQuery = preparedQuery((db: LakeDb, _dialect, p: (name: 'userId' | 'slug' | 'projectSlug' | 'nodeId') => string) =>
  projectScope(db, p)
    .leftJoin('nodes as nd', (j) => j.onRef('nd.project_id', '=', 'p.id').on('nd.id', '=', p('nodeId')).on('nd.deleted_at', 'is', null))
    .select(prefixedNodeColumns('nd'))
    .$castTo<ProjectRow & PrefixedNode>(),
);

type ProjectRow = { namespaceId: string; memberRole: string | null } & { [K in keyof ProjectsTable]: ProjectsTable[K] | null };

/** What every signed-in user may do in a public project they are no member of. */
export const PUBLIC_ROLE = 'read';

/**
 * The caller's role in a project: their namespace role, else `read` when the project is public, else none.
 * The one place that says what `visibility` grants.
 */
export function effectiveRole(memberRole: string | null | undefined, visibility: string | null | undefined): string | null {
  if (memberRole) return memberRole;
  return visibility === 'public' ? PUBLIC_ROLE : null;
}

/**
 * The 404s of a project-scoped query row (namespace joined, membership and project LEFT JOINed) and the
 * caller's role: a stranger to a private (or missing) project gets the same 404 as for a missing namespace.
 */
export function checkProjectScope(row: { memberRole: string | null; visibility?: string | null; projectId: string | null } | undefined): string {
  if (!row) throw namespaceNotFound();
  const role = effectiveRole(row.memberRole, row.projectId ? row.visibility : null);
  if (!role) throw namespaceNotFound();
  if (!row.projectId) throw projectNotFound();
  return role;
}

/** The namespace with the caller's role, in one query; outsiders get the same 404 as for a missing one. */
export async function resolveNamespace(db: LakeDb, userId: string, slug: string): Promise<NamespaceScope> {
  const [row] = await namespaceQuery(db, { userId, slug });
  if (!row) throw namespaceNotFound();
  const { role, ...namespace } = row;
  return { namespace, role };
}

/** Namespace membership and the live project, in one query. */
export async function resolveProject(db: LakeDb, userId: string, slug: string, projectSlug: string): Promise<ProjectScope> {
  const [row] = await projectQuery(db, { userId, slug, projectSlug });
  return projectScopeOf(row);
}

/** resolveProject and the project's live node `nodeId` (null when there is none), in one query. */
export async function resolveProjectNode(
  db: LakeDb,
  userId: string,
  slug: string,
  projectSlug: string,
  nodeId: string,
): Promise<ProjectScope & { node: NodesTable | null }> {
  const [row] = await projectNodeQuery(db, { userId, slug, projectSlug, nodeId });
  const { node, rest } = row ? splitNode(row) : { node: null, rest: undefined };
  return { ...projectScopeOf(rest), node };
}

function projectScopeOf(row: { namespaceId: string; memberRole: string | null; id: string | null; visibility?: string | null } | undefined): ProjectScope {
  const role = checkProjectScope(row && { ...row, projectId: row.id });
  const { namespaceId, memberRole: _m, ...project } = row!;
  return { namespaceId, role, project: project as ProjectsTable };
}
