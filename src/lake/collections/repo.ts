import { sql } from 'kysely';
import { dialectOf } from '../../core/db/dialect.js';
import { uniqueOr } from '../../core/db/errors.js';
import { conflict } from '../../core/errors.js';
import { nowIso } from '../../core/time.js';
import { datasetNotFound } from '../datasets/queries.js';
import type { CollectionsTable, LakeDb } from '../db.js';
import { describedChanges, newDescribedColumns } from '../described.js';
import { lockTree } from '../nodes/tree.js';
import { checkMembers, insertMembers } from './member-rows.js';
import type { CollectionRow } from './present.js';
import { collectionNotFound, readMembers } from './queries.js';
import type { CreateCollection, UpdateCollection } from './schemas.js';
import { chunks, unique } from './sql.js';

const nameTaken = (name: string) => conflict(`Collection name "${name}" already exists in this project.`);

/**
 * A live dataset of the same project, else 404 (a dataset of another project does not exist here). Locked
 * (PostgreSQL `for share`) until the caller commits, so that a concurrent delete of the dataset, which
 * detaches its collections, waits for this write and detaches it too, or wins and makes this a 404.
 */
async function ensureDataset(trx: LakeDb, projectId: string, datasetId: string): Promise<void> {
  const found = await trx
    .selectFrom('datasets')
    .select('id')
    .where('id', '=', datasetId)
    .where('project_id', '=', projectId)
    .where('deleted_at', 'is', null)
    .$if(dialectOf(trx) === 'postgres', (q) => q.forShare())
    .executeTakeFirst();
  if (!found) throw datasetNotFound();
}

export async function createCollection(db: LakeDb, projectId: string, input: CreateCollection) {
  const members = unique(input.members ?? []);
  const row: CollectionsTable = {
    ...newDescribedColumns(input),
    project_id: projectId,
    dataset_id: input.datasetId ?? null,
    next_position: members.length,
  };
  await db.transaction().execute(async (trx) => {
    if (row.dataset_id) await ensureDataset(trx, projectId, row.dataset_id);
    if (members.length > 0) await lockTree(trx, projectId); // members must stay live files until commit
    await checkMembers(trx, projectId, members);
    const inserted = await trx.insertInto('collections').values(row).onConflict((oc) => oc.doNothing()).executeTakeFirst();
    if (!inserted.numInsertedOrUpdatedRows) throw nameTaken(row.name);
    await insertMembers(trx, row.id, members, 0);
  });
  return { row: row as CollectionRow, members };
}

/** Only the given fields change; `members` replaces the whole list (in the order given). */
export async function updateCollection(db: LakeDb, current: CollectionRow, input: UpdateCollection) {
  const changes: Partial<CollectionsTable> = { ...describedChanges(input), updated_at: nowIso() };
  if (input.datasetId !== undefined) changes.dataset_id = input.datasetId;
  const replacing = input.members !== undefined ? unique(input.members) : null;
  if (replacing) changes.next_position = replacing.length;
  return uniqueOr(
    () =>
      db.transaction().execute(async (trx) => {
        if (input.datasetId) await ensureDataset(trx, current.project_id, input.datasetId);
        if (replacing) {
          await lockTree(trx, current.project_id); // same lock order as node deletes: tree, then collection
          await checkMembers(trx, current.project_id, replacing);
        }
        const row = await trx
          .updateTable('collections')
          .set(changes)
          .where('id', '=', current.id)
          .where('name', '=', current.name)
          .where('deleted_at', 'is', null)
          .returning(['id', 'name', 'description', 'tags', 'metadata', 'dataset_id', 'project_id', 'created_at', 'updated_at'])
          .executeTakeFirst();
        if (!row) throw collectionNotFound();
        if (!replacing) return { row, members: await readMembers(trx, row.id) };
        await trx.deleteFrom('collection_members').where('collection_id', '=', row.id).execute();
        await insertMembers(trx, row.id, replacing, 0);
        return { row, members: replacing };
      }),
    () => nameTaken(input.name ?? current.name),
  );
}

export async function deleteCollection(db: LakeDb, collectionId: string): Promise<void> {
  const result = await db
    .updateTable('collections')
    .set({ deleted_at: nowIso() })
    .where('id', '=', collectionId)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  if (!result.numUpdatedRows) throw collectionNotFound();
}

export interface MemberChange {
  /** All members in order, unless the caller asked for a minimal answer. */
  members?: string[];
  count: number;
  total: number;
}

/**
 * Appends in one transaction whose cost does not depend on the collection's size: positions are reserved
 * from next_position (the UPDATE also locks the row against concurrent appends), duplicates are skipped by
 * the primary key, and the total comes from member_count, kept by triggers (migration 005).
 */
export async function addMembers(db: LakeDb, collection: CollectionRow, ids: string[], withList: boolean): Promise<MemberChange> {
  const add = unique(ids);
  return db.transaction().execute(async (trx) => {
    // The tree lock keeps the nodes checked live until commit: a node delete (which takes it too and then
    // drops the node's member rows) cannot slip between the check and the insert.
    await lockTree(trx, collection.project_id);
    await checkMembers(trx, collection.project_id, add);
    const reserved = await trx
      .updateTable('collections')
      .set({ next_position: sql`next_position + ${add.length}`, updated_at: nowIso() })
      .where('id', '=', collection.id)
      .where('deleted_at', 'is', null)
      .returning(['next_position', sql<number>`member_count`.as('member_count')])
      .executeTakeFirst();
    if (!reserved) throw collectionNotFound();
    const added = await insertMembers(trx, collection.id, add, Number(reserved.next_position) - add.length);
    const total = Number(reserved.member_count) + added;
    return { count: added, total, ...(withList ? { members: await readMembers(trx, collection.id) } : {}) };
  });
}

export async function removeMembers(db: LakeDb, collection: CollectionRow, ids: string[], withList: boolean): Promise<MemberChange> {
  const remove = unique(ids);
  return db.transaction().execute(async (trx) => {
    // Node deletes take the tree lock, then delete member rows, whose trigger updates the collection row;
    // taking the tree lock first here too keeps PostgreSQL from deadlocking the two.
    await lockTree(trx, collection.project_id);
    const before = await trx
      .updateTable('collections')
      .set({ updated_at: nowIso() })
      .where('id', '=', collection.id)
      .where('deleted_at', 'is', null)
      .returning(sql<number>`member_count`.as('member_count'))
      .executeTakeFirst();
    if (!before) throw collectionNotFound();
    let removed = 0;
    for (const chunk of chunks(remove)) {
      const result = await trx.deleteFrom('collection_members').where('collection_id', '=', collection.id).where('node_id', 'in', chunk).executeTakeFirst();
      removed += Number(result.numDeletedRows);
    }
    const total = Number(before.member_count) - removed;
    return { count: removed, total, ...(withList ? { members: await readMembers(trx, collection.id) } : {}) };
  });
}
