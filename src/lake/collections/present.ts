import { presentDescribed } from '../described.js';
import type { CollectionsTable } from '../db.js';

/** The collection columns every read selects (no bookkeeping such as next_position). */
export type CollectionRow = Omit<CollectionsTable, 'next_position' | 'deleted_at'>;

export function presentCollection(row: CollectionRow, members: string[]) {
  return {
    ...presentDescribed(row),
    members,
    datasetId: row.dataset_id,
    projectId: row.project_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
