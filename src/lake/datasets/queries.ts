import { sql } from 'kysely';
import { dialectOf, parseJson } from '../../core/db/dialect.js';
import { notFound } from '../../core/errors.js';
import type { Page } from '../../core/pagination.js';
import type { CollectionRow } from '../collections/present.js';
import { datasetCollectionsJson, memberIdsJson } from '../collections/sql.js';
import type { LakeDb } from '../db.js';
import { checkProjectScope } from '../scope.js';
import type { DatasetRow } from './present.js';

export const datasetNotFound = () => notFound('Dataset not found or deleted.');

const DATASET_COLUMNS = ['d.id', 'd.name', 'd.description', 'd.tags', 'd.metadata', 'd.project_id', 'd.created_at', 'd.updated_at'] as const;

export interface DatasetScope {
  role: string;
  projectId: string;
  dataset: DatasetRow;
}

/** Tenancy check, project and live dataset in one query; the LEFT JOINs tell which level is missing. */
export async function findDataset(db: LakeDb, userId: string, slug: string, projectSlug: string, name: string): Promise<DatasetScope> {
  const row = await scoped(db, userId, slug, projectSlug, name)
    .select(['m.role', 'p.id as scope_project_id', 'p.visibility as scope_visibility', ...DATASET_COLUMNS])
    .executeTakeFirst();
  const role = check(row ? [row] : []);
  const { role: _r, scope_project_id: projectId, scope_visibility: _v, ...dataset } = row!;
  return { role, projectId: projectId!, dataset: dataset as DatasetRow };
}

/** The dataset with all its live collections (oldest first) and their members, in one query. */
export async function findDatasetWithCollections(db: LakeDb, userId: string, slug: string, projectSlug: string, name: string) {
  const rows = await scoped(db, userId, slug, projectSlug, name)
    .leftJoin('collections as c', (j) => j.onRef('c.dataset_id', '=', 'd.id').on('c.deleted_at', 'is', null))
    .select(['m.role', 'p.id as scope_project_id', 'p.visibility as scope_visibility', ...DATASET_COLUMNS])
    .select([
      'c.id as c_id',
      'c.name as c_name',
      'c.description as c_description',
      'c.tags as c_tags',
      'c.metadata as c_metadata',
      'c.dataset_id as c_dataset_id',
      'c.project_id as c_project_id',
      'c.created_at as c_created_at',
      'c.updated_at as c_updated_at',
    ])
    .select(memberIdsJson(dialectOf(db), sql.ref('c.id')).as('c_members'))
    .orderBy('c.id')
    .execute();
  check(rows);
  const first = rows[0];
  const dataset: DatasetRow = {
    id: first.id!,
    name: first.name!,
    description: first.description,
    tags: first.tags!,
    metadata: first.metadata,
    project_id: first.project_id!,
    created_at: first.created_at!,
    updated_at: first.updated_at!,
  };
  const collections = rows
    .filter((r) => r.c_id !== null)
    .map((r) => ({
      collection: {
        id: r.c_id,
        name: r.c_name,
        description: r.c_description,
        tags: r.c_tags,
        metadata: r.c_metadata,
        dataset_id: r.c_dataset_id,
        project_id: r.c_project_id,
        created_at: r.c_created_at,
        updated_at: r.c_updated_at,
      } as CollectionRow,
      members: parseJson<string[]>(r.c_members, []),
    }));
  return { dataset, collections };
}

function scoped(db: LakeDb, userId: string, slug: string, projectSlug: string, name: string) {
  return db
    .selectFrom('namespaces as n')
    .leftJoin('namespace_members as m', (j) => j.onRef('m.namespace_id', '=', 'n.id').on('m.user_id', '=', userId))
    .leftJoin('projects as p', (j) => j.onRef('p.namespace_id', '=', 'n.id').on('p.slug', '=', projectSlug).on('p.deleted_at', 'is', null))
    .leftJoin('datasets as d', (j) => j.onRef('d.project_id', '=', 'p.id').on('d.name', '=', name).on('d.deleted_at', 'is', null))
    .where('n.slug', '=', slug)
    .where('n.deleted_at', 'is', null);
}

/** The 404s of a dataset-scoped query, and the caller's role. */
function check<R extends { role: string | null; scope_visibility: string | null | undefined; scope_project_id: string | null; id: string | null }>(rows: R[]): string {
  const [r] = rows;
  const role = checkProjectScope(r && { memberRole: r.role, visibility: r.scope_visibility, projectId: r.scope_project_id });
  if (!r.id) throw datasetNotFound();
  return role;
}

/** One query whatever the page (see listCollections): a one-row scope CTE with the total (a counter), the page joined to it. */
export async function listDatasets(db: LakeDb, userId: string, slug: string, projectSlug: string, page: Page) {
  const rows = await db
    .with(
      (w) => w('scope').materialized(),
      (qb) =>
        qb
          .selectFrom('namespaces as n')
          .leftJoin('namespace_members as m', (j) => j.onRef('m.namespace_id', '=', 'n.id').on('m.user_id', '=', userId))
          .leftJoin('projects as p', (j) => j.onRef('p.namespace_id', '=', 'n.id').on('p.slug', '=', projectSlug).on('p.deleted_at', 'is', null))
          .select(['p.id as project_id', 'm.role as role', 'p.visibility as visibility', sql<number>`p.dataset_count`.as('total')])
          .where('n.slug', '=', slug)
          .where('n.deleted_at', 'is', null),
    )
    .with('page', (qb) =>
      qb
        .selectFrom('datasets as d')
        // a scalar subquery (not a join) so that the planner walks the (project_id, id) index
        .where('d.project_id', '=', (eb) => eb.selectFrom('scope').select('scope.project_id'))
        .select(DATASET_COLUMNS)
        .where('d.deleted_at', 'is', null)
        .orderBy('d.id', 'desc')
        .limit(page.limit)
        .offset(page.offset),
    )
    .selectFrom('scope as s')
    .leftJoin('page as d', (j) => j.onTrue())
    .select(['s.project_id as scope_project_id', 's.role', 's.visibility as scope_visibility', 's.total', ...DATASET_COLUMNS])
    .select((eb) => {
      const json = datasetCollectionsJson(dialectOf(db), eb.ref('d.id'));
      return [json.ids.as('bindr_ids'), json.names.as('bindr_names')];
    })
    .orderBy('d.id', 'desc')
    .execute();
  const [first] = rows;
  checkProjectScope(first && { memberRole: first.role, visibility: first.scope_visibility, projectId: first.scope_project_id });
  const datasets = rows
    .filter((r) => r.id !== null)
    .map(({ scope_project_id: _p, role: _r, scope_visibility: _v, total: _t, bindr_ids, bindr_names, ...d }) => {
      const names = parseJson<string[]>(bindr_names, []);
      return { row: d as DatasetRow, bindrs: parseJson<string[]>(bindr_ids, []).map((id, i) => ({ id, name: names[i] })) };
    });
  return { datasets, total: Number(rows[0].total ?? 0) };
}

/** The dataset's live collections as `bindrs` entries, oldest first (for answers that have only the dataset row). */
export async function datasetBindrs(db: LakeDb, datasetId: string): Promise<{ id: string; name: string }[]> {
  return db
    .selectFrom('collections')
    .select(['id', 'name'])
    .where('dataset_id', '=', datasetId)
    .where('deleted_at', 'is', null)
    .orderBy('id')
    .execute();
}
