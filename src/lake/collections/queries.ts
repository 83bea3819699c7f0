import { sql } from 'kysely';
import { parseJson } from '../../core/db/dialect.js';
import { notFound } from '../../core/errors.js';
import type { Page } from '../../core/pagination.js';
import type { LakeDb } from '../db.js';
import { checkProjectScope } from '../scope.js';
import { preparedQuery } from '../../core/db/prepared-query.js';
import type { CollectionRow } from './present.js';
import { memberIdsJson } from './sql.js';

export const collectionNotFound = () => notFound('Collection not found or deleted.');

export const COLLECTION_COLUMNS = [
  'c.id',
  'c.name',
  'c.description',
  'c.tags',
  'c.metadata',
  'c.dataset_id',
  'c.project_id',
  'c.created_at',
  'c.updated_at',
] as const;

export interface CollectionScope {
  role: string;
  projectId: string;
  collection: CollectionRow;
  /** Only when asked for: the member IDs in order. */
  members: string[];
}

type ScopeKeys = 'userId' | 'slug' | 'projectSlug' | 'name';

// Tenancy check, project, collection and (optionally) its members in one query. The LEFT JOINs tell which
// level is missing; an outsider sees the same 404 as for a namespace that does not exist.
const scopeQuery = (withMembers: boolean) =>
  preparedQuery((db: LakeDb, dialect, p: (name: ScopeKeys) => string) =>
    db
      .selectFrom('namespaces as n')
      .leftJoin('namespace_members as m', (j) => j.onRef('m.namespace_id', '=', 'n.id').on('m.user_id', '=', p('userId')))
      .leftJoin('projects as p', (j) => j.onRef('p.namespace_id', '=', 'n.id').on('p.slug', '=', p('projectSlug')).on('p.deleted_at', 'is', null))
      .leftJoin('collections as c', (j) => j.onRef('c.project_id', '=', 'p.id').on('c.name', '=', p('name')).on('c.deleted_at', 'is', null))
      .select(['m.role', 'p.id as scope_project_id', 'p.visibility as scope_visibility', ...COLLECTION_COLUMNS])
      .$if(withMembers, (q) => q.select(memberIdsJson(dialect, sql.ref('c.id')).as('members')))
      .where('n.slug', '=', p('slug'))
      .where('n.deleted_at', 'is', null),
  );
const scopeWithMembers = scopeQuery(true);
const scopeOnly = scopeQuery(false);

export async function findCollection(
  db: LakeDb,
  userId: string,
  slug: string,
  projectSlug: string,
  name: string,
  withMembers: boolean,
): Promise<CollectionScope> {
  const [row] = await (withMembers ? scopeWithMembers : scopeOnly)(db, { userId, slug, projectSlug, name });
  const role = checkProjectScope(row && { memberRole: row.role, visibility: row.scope_visibility, projectId: row.scope_project_id });
  if (!row.id) throw collectionNotFound();
  const { role: _r, scope_project_id: projectId, scope_visibility: _v, members, ...collection } = row as typeof row & { members?: string };
  return { role, projectId: projectId as string, collection: collection as CollectionRow, members: parseJson<string[]>(members, []) };
}

type ListKeys = 'userId' | 'slug' | 'projectSlug' | 'datasetId' | 'limit' | 'offset';

// One query whatever the page: the scope (membership, project, total) is a one-row CTE and the page is LEFT
// JOINed to it, so a page past the end still proves the scope. The total is a counter kept by triggers
// (migration 005), not a count; members are aggregated for the page's rows only.
const listQuery = (byDataset: boolean) =>
  preparedQuery((db: LakeDb, dialect, p: (name: ListKeys) => string) =>
    db
      .with(
        (w) => w('scope').materialized(),
        (qb) =>
          qb
            .selectFrom('namespaces as n')
            .leftJoin('namespace_members as m', (j) => j.onRef('m.namespace_id', '=', 'n.id').on('m.user_id', '=', p('userId')))
            .leftJoin('projects as p', (j) => j.onRef('p.namespace_id', '=', 'n.id').on('p.slug', '=', p('projectSlug')).on('p.deleted_at', 'is', null))
            .select((eb) => [
              'p.id as project_id',
              'm.role as role',
              'p.visibility as visibility',
              byDataset
                ? eb
                    .selectFrom('datasets as d')
                    .select(sql<number>`d.collection_count`.as('n'))
                    .where('d.id', '=', p('datasetId'))
                    .whereRef('d.project_id', '=', 'p.id')
                    .where('d.deleted_at', 'is', null)
                    .as('total')
                : sql<number>`p.collection_count`.as('total'),
            ])
            .where('n.slug', '=', p('slug'))
            .where('n.deleted_at', 'is', null),
      )
      .with('page', (qb) =>
        qb
          .selectFrom('collections as c')
          // a scalar subquery (not a join) so that the planner walks the (project_id, id) index
          .where('c.project_id', '=', (eb) => eb.selectFrom('scope').select('scope.project_id'))
          .select(COLLECTION_COLUMNS)
          .where('c.deleted_at', 'is', null)
          .$if(byDataset, (q) => q.where('c.dataset_id', '=', p('datasetId')))
          .orderBy('c.id', 'desc')
          .limit(sql.val(p('limit')) as never)
          .offset(sql.val(p('offset')) as never),
      )
      .selectFrom('scope as s')
      .leftJoin('page as c', (j) => j.onTrue())
      .select(['s.project_id as scope_project_id', 's.role as scope_role', 's.visibility as scope_visibility', 's.total', ...COLLECTION_COLUMNS])
      .select(memberIdsJson(dialect, sql.ref('c.id')).as('members'))
      .orderBy('c.id', 'desc'),
  );
const listAll = listQuery(false);
const listOfDataset = listQuery(true);

export async function listCollections(db: LakeDb, userId: string, slug: string, projectSlug: string, page: Page, datasetId?: string) {
  const values = { userId, slug, projectSlug, datasetId, limit: page.limit, offset: page.offset };
  const rows = await (datasetId === undefined ? listAll : listOfDataset)(db, values);
  const [first] = rows;
  checkProjectScope(first && { memberRole: first.scope_role, visibility: first.scope_visibility, projectId: first.scope_project_id });
  const items = rows
    .filter((r) => r.id !== null)
    .map(({ scope_project_id: _p, scope_role: _r, scope_visibility: _v, total: _t, members, ...collection }) => ({
      collection: collection as CollectionRow,
      members: parseJson<string[]>(members, []),
    }));
  return { items, total: Number(rows[0].total ?? 0) };
}

/** The member IDs of a collection, in order. */
export async function readMembers(db: LakeDb, collectionId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('collection_members')
    .select('node_id')
    .where('collection_id', '=', collectionId)
    .orderBy('position')
    .execute();
  return rows.map((r) => r.node_id);
}
