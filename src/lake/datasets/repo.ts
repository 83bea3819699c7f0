import { sql } from 'kysely';
import { uniqueOr } from '../../core/db/errors.js';
import { conflict, notFound } from '../../core/errors.js';
import { nowIso } from '../../core/time.js';
import type { DatasetsTable, LakeDb } from '../db.js';
import { describedChanges, newDescribedColumns } from '../described.js';
import type { DatasetRow } from './present.js';
import { datasetNotFound } from './queries.js';
import type { CreateDataset, UpdateDataset } from './schemas.js';

const nameTaken = (name: string) => conflict(`Dataset name "${name}" already exists in this project.`);
const RETURNED = ['id', 'name', 'description', 'tags', 'metadata', 'project_id', 'created_at', 'updated_at'] as const;

export async function createDataset(db: LakeDb, projectId: string, input: CreateDataset): Promise<DatasetRow> {
  const row: DatasetsTable = { ...newDescribedColumns(input), project_id: projectId };
  const inserted = await db.insertInto('datasets').values(row).onConflict((oc) => oc.doNothing()).executeTakeFirst();
  if (!inserted.numInsertedOrUpdatedRows) throw nameTaken(row.name);
  return row;
}

export async function updateDataset(db: LakeDb, current: DatasetRow, input: UpdateDataset): Promise<DatasetRow> {
  const changes: Partial<DatasetsTable> = { ...describedChanges(input), updated_at: nowIso() };
  const row = await uniqueOr(
    () => db.updateTable('datasets').set(changes).where('id', '=', current.id).where('name', '=', current.name).where('deleted_at', 'is', null).returning(RETURNED).executeTakeFirst(),
    () => nameTaken(input.name ?? current.name),
  );
  if (!row) throw datasetNotFound();
  return row;
}

/** Soft delete; its collections stay, as standalone ones, in the same transaction. */
export async function deleteDataset(db: LakeDb, datasetId: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const now = nowIso();
    const result = await trx.updateTable('datasets').set({ deleted_at: now, updated_at: now }).where('id', '=', datasetId).where('deleted_at', 'is', null).executeTakeFirst();
    if (!result.numUpdatedRows) throw datasetNotFound();
    await trx.updateTable('collections').set({ dataset_id: null, updated_at: now }).where('dataset_id', '=', datasetId).execute();
  });
}

/** Marks the dataset changed, which also proves it is still live (and, on PostgreSQL, locks it). */
async function touch(trx: LakeDb, datasetId: string, now: string): Promise<void> {
  const result = await trx.updateTable('datasets').set({ updated_at: now }).where('id', '=', datasetId).where('deleted_at', 'is', null).executeTakeFirst();
  if (!result.numUpdatedRows) throw datasetNotFound();
}

async function countCollections(trx: LakeDb, datasetId: string): Promise<number> {
  const r = await trx
    .selectFrom('collections')
    .select(sql<number>`count(*)`.as('n'))
    .where('dataset_id', '=', datasetId)
    .where('deleted_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Attaches live collections of the project by name (moving them from another dataset if need be). */
export async function attachCollections(db: LakeDb, dataset: DatasetRow, names: string[]) {
  const wanted = [...new Set(names)];
  return db.transaction().execute(async (trx) => {
    const now = nowIso();
    await touch(trx, dataset.id, now);
    const found = await trx
      .selectFrom('collections')
      .select(['id', 'name'])
      .where('project_id', '=', dataset.project_id)
      .where('name', 'in', wanted)
      .where('deleted_at', 'is', null)
      .execute();
    if (found.length < wanted.length) {
      const known = new Set(found.map((c) => c.name));
      const missing = wanted.filter((n) => !known.has(n)).map((n) => JSON.stringify(n));
      throw notFound(`Collections not found in this project: ${missing.join(', ')}.`);
    }
    const result = await trx
      .updateTable('collections')
      .set({ dataset_id: dataset.id, updated_at: now })
      .where('id', 'in', found.map((c) => c.id))
      .where((eb) => eb.or([eb('dataset_id', 'is', null), eb('dataset_id', '<>', dataset.id)]))
      .executeTakeFirst();
    return { added: Number(result.numUpdatedRows), total: await countCollections(trx, dataset.id) };
  });
}

/** Detaches collections by name; they become standalone. Names not in this dataset are ignored. */
export async function detachCollections(db: LakeDb, dataset: DatasetRow, names: string[]) {
  const wanted = [...new Set(names)];
  return db.transaction().execute(async (trx) => {
    const now = nowIso();
    await touch(trx, dataset.id, now);
    const result = await trx
      .updateTable('collections')
      .set({ dataset_id: null, updated_at: now })
      .where('dataset_id', '=', dataset.id)
      .where('name', 'in', wanted)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return { removed: Number(result.numUpdatedRows), total: await countCollections(trx, dataset.id) };
  });
}
