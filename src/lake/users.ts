import type { Identity } from '../core/auth/jwt.js';
import { conflict } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { nowIso } from '../core/time.js';
import type { LakeDb } from './db.js';

export interface LakeUser {
  id: string;
  username: string;
  /** The token's `sub`. */
  subject: string;
  createdAt: string;
}

const USER_COLUMNS = ['id', 'username', 'subject', 'created_at as createdAt'] as const;

const KNOWN_LIMIT = 50_000;

/**
 * Resolves the user behind a verified token, creating it with a personal namespace (slug = username, caller
 * is owner) on first sight. Users are never deleted, so each app remembers the ones it has seen.
 */
export function createUserResolver(db: LakeDb) {
  const known = new Map<string, LakeUser>();
  const keyOf = (identity: Identity) => `${identity.subject}\u0000${identity.username}`;
  const resolve = async (identity: Identity): Promise<LakeUser> => {
    const cacheKey = keyOf(identity);
    const cached = known.get(cacheKey);
    if (cached) return cached;
    let user = await db.selectFrom('users').select(USER_COLUMNS).where('subject', '=', identity.subject).executeTakeFirst();
    if (!user) user = await createUser(db, identity);
    if (known.size >= KNOWN_LIMIT) known.clear();
    known.set(cacheKey, user);
    return user;
  };
  /** The user already seen behind this identity, without waiting; otherwise undefined. */
  const knownUser = (identity: Identity): LakeUser | undefined => known.get(keyOf(identity));
  return Object.assign(resolve, { known: knownUser });
}

async function createUser(db: LakeDb, identity: Identity): Promise<LakeUser> {
  const now = nowIso();
  const id = newId();
  await db.transaction().execute(async (trx) => {
    const inserted = await trx
      .insertInto('users')
      .values({ id, subject: identity.subject, username: identity.username, created_at: now, updated_at: now })
      .onConflict((oc) => oc.doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!inserted) return; // a concurrent first request won the race, or the username is taken
    const slugTaken = await trx
      .selectFrom('namespaces')
      .select('id')
      .where('slug', '=', identity.username)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    if (slugTaken) return;
    const namespaceId = newId();
    await trx
      .insertInto('namespaces')
      .values({ id: namespaceId, slug: identity.username, name: identity.username, kind: 'user', metadata: null, created_at: now, updated_at: now, deleted_at: null })
      .execute();
    await trx
      .insertInto('namespace_members')
      .values({ namespace_id: namespaceId, user_id: id, role: 'owner', created_at: now, updated_at: now })
      .execute();
  });
  const user = await db.selectFrom('users').select(USER_COLUMNS).where('subject', '=', identity.subject).executeTakeFirst();
  if (!user) throw conflict(`The username "${identity.username}" belongs to another account.`);
  return user;
}
