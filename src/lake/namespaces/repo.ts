import { sql } from 'kysely';
import { lockClause } from '../../core/db/dialect.js';
import { uniqueOr } from '../../core/db/errors.js';
import { badRequest, conflict, forbidden, notFound } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { windowTotal, type Page } from '../../core/pagination.js';
import { nowIso } from '../../core/time.js';
import type { LakeDb, NamespacesTable } from '../db.js';
import { jsonColumn } from '../described.js';
import { rank } from '../policies.js';
import { namespaceNotFound } from '../scope.js';
import type { CreateNamespace, UpdateNamespace } from './schemas.js';


export async function createNamespace(db: LakeDb, userId: string, input: CreateNamespace): Promise<NamespacesTable> {
  const now = nowIso();
  const row: NamespacesTable = {
    id: newId(),
    slug: input.slug,
    name: input.name ?? input.slug,
    kind: 'org',
    metadata: jsonColumn(input.metadata),
    created_at: now,
    updated_at: now,
    deleted_at: null,
  };
  await db.transaction().execute(async (trx) => {
    const inserted = await trx.insertInto('namespaces').values(row).onConflict((oc) => oc.doNothing()).executeTakeFirst();
    if (!inserted.numInsertedOrUpdatedRows) throw conflict(`Namespace slug "${input.slug}" already exists.`);
    await trx
      .insertInto('namespace_members')
      .values({ namespace_id: row.id, user_id: userId, role: 'owner', created_at: now, updated_at: now })
      .execute();
  });
  return row;
}

/** Namespaces the user belongs to, newest first, with the total in the same query. */
export async function listNamespaces(db: LakeDb, userId: string, page: Page) {
  const rows = await db
    .selectFrom('namespaces as n')
    .innerJoin('namespace_members as m', 'm.namespace_id', 'n.id')
    .selectAll('n')
    .select(['m.role', sql<number>`count(*) over()`.as('total')])
    .where('m.user_id', '=', userId)
    .where('n.deleted_at', 'is', null)
    .orderBy('n.id', 'desc')
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  const total = await windowTotal(rows, page, () => countNamespaces(db, userId));
  return { rows, total };
}

async function countNamespaces(db: LakeDb, userId: string) {
  const r = await db
    .selectFrom('namespaces as n')
    .innerJoin('namespace_members as m', 'm.namespace_id', 'n.id')
    .select(sql<number>`count(*)`.as('c'))
    .where('m.user_id', '=', userId)
    .where('n.deleted_at', 'is', null)
    .executeTakeFirstOrThrow();
  return r.c;
}

export async function countLiveProjects(db: LakeDb, namespaceId: string): Promise<number> {
  const r = await db
    .selectFrom('projects')
    .select(sql<number>`count(*)`.as('c'))
    .where('namespace_id', '=', namespaceId)
    .where('deleted_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(r.c);
}

export async function updateNamespace(db: LakeDb, current: NamespacesTable, input: UpdateNamespace): Promise<NamespacesTable> {
  if (input.slug !== undefined && input.slug !== current.slug && current.kind === 'user') {
    throw badRequest('A personal namespace keeps its username as slug.');
  }
  const changes: Partial<NamespacesTable> = { updated_at: nowIso() };
  if (input.slug !== undefined) changes.slug = input.slug;
  if (input.name !== undefined) changes.name = input.name;
  if (input.metadata !== undefined) changes.metadata = jsonColumn(input.metadata);
  const row = await uniqueOr(
    () => db.updateTable('namespaces').set(changes).where('id', '=', current.id).where('slug', '=', current.slug).where('deleted_at', 'is', null).returningAll().executeTakeFirst(),
    () => conflict(`Namespace slug "${input.slug}" already exists.`),
  );
  if (!row) throw namespaceNotFound();
  return row;
}

export async function deleteNamespace(db: LakeDb, namespace: NamespacesTable): Promise<void> {
  if (namespace.kind === 'user') throw badRequest('A personal namespace cannot be deleted.');
  const result = await db.updateTable('namespaces').set({ deleted_at: nowIso() }).where('id', '=', namespace.id).where('deleted_at', 'is', null).executeTakeFirst();
  if (!result.numUpdatedRows) throw namespaceNotFound(); // a concurrent delete got there first
}

export async function listMembers(db: LakeDb, namespaceId: string, page: Page) {
  const rows = await db
    .selectFrom('namespace_members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['u.username', 'm.role', 'm.created_at', 'm.updated_at', sql<number>`count(*) over()`.as('total')])
    .where('m.namespace_id', '=', namespaceId)
    .orderBy('m.created_at', 'desc')
    .orderBy('u.id', 'desc')
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  const total = await windowTotal(rows, page, async () =>
    (await db.selectFrom('namespace_members').select(sql<number>`count(*)`.as('c')).where('namespace_id', '=', namespaceId).executeTakeFirstOrThrow()).c,
  );
  return { rows, total };
}

/**
 * Grants `role` to `username`. Admins manage members up to admin; only owners grant, change or
 * revoke ownership; a namespace always keeps one owner.
 */
export async function putMember(db: LakeDb, namespaceId: string, callerRole: string, username: string, role: string) {
  return db.transaction().execute(async (trx) => {
    await lockMembers(trx, namespaceId);
    const user = await trx.selectFrom('users').select('id').where('username', '=', username).executeTakeFirst();
    if (!user) throw notFound(`User "${username}" not found (users appear after their first sign-in).`);
    const existing = await trx
      .selectFrom('namespace_members')
      .selectAll()
      .where('namespace_id', '=', namespaceId)
      .where('user_id', '=', user.id)
      .executeTakeFirst();
    guardOwnership(callerRole, existing?.role, role);
    if (existing?.role === 'owner' && role !== 'owner') await ensureAnotherOwner(trx, namespaceId, user.id);
    const now = nowIso();
    if (existing) {
      await trx.updateTable('namespace_members').set({ role, updated_at: now }).where('namespace_id', '=', namespaceId).where('user_id', '=', user.id).execute();
    } else {
      await trx.insertInto('namespace_members').values({ namespace_id: namespaceId, user_id: user.id, role, created_at: now, updated_at: now }).execute();
    }
    return { created: !existing, member: { username, role, created_at: existing?.created_at ?? now, updated_at: now } };
  });
}

export async function removeMember(db: LakeDb, namespaceId: string, caller: { id: string; role: string }, username: string) {
  await db.transaction().execute(async (trx) => {
    await lockMembers(trx, namespaceId);
    const row = await trx
      .selectFrom('namespace_members as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .select(['m.user_id', 'm.role'])
      .where('m.namespace_id', '=', namespaceId)
      .where('u.username', '=', username)
      .executeTakeFirst();
    if (!row) throw notFound(`User "${username}" is not a member of this namespace.`);
    if (row.user_id !== caller.id) guardOwnership(caller.role, row.role, 'read');
    if (row.role === 'owner') await ensureAnotherOwner(trx, namespaceId, row.user_id);
    await trx.deleteFrom('namespace_members').where('namespace_id', '=', namespaceId).where('user_id', '=', row.user_id).execute();
  });
}

/**
 * Member changes of one namespace run one at a time (PostgreSQL: the namespace row, `for update`; SQLite
 * has one writer): "keep one owner" is a check across rows, and two owners removing each other at once
 * must not both pass it.
 */
async function lockMembers(trx: LakeDb, namespaceId: string): Promise<void> {
  await sql`select id from namespaces where id = ${namespaceId}${lockClause(trx, 'update')}`.execute(trx);
}

function guardOwnership(callerRole: string, currentRole: string | undefined, newRole: string) {
  if (rank(callerRole) < rank('admin')) throw forbidden('Managing members needs the admin role.');
  if ((currentRole === 'owner' || newRole === 'owner') && callerRole !== 'owner') {
    throw forbidden('Only an owner may grant, change or revoke ownership.');
  }
}

async function ensureAnotherOwner(trx: LakeDb, namespaceId: string, userId: string) {
  const other = await trx
    .selectFrom('namespace_members')
    .select('user_id')
    .where('namespace_id', '=', namespaceId)
    .where('role', '=', 'owner')
    .where('user_id', '!=', userId)
    .executeTakeFirst();
  if (!other) throw conflict('A namespace must keep at least one owner.');
}
