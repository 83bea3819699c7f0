import { parseJson } from '../../core/db/dialect.js';
import type { CollectionsTable } from '../db.js';

/** The collection columns every read selects (no bookkeeping such as next_position). */
export type CollectionRow = Omit<CollectionsTable, 'next_position' | 'deleted_at'>;

export function presentCollection(row: CollectionRow, members: string[]) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    tags: parseJson<string[]>(row.tags, []),
    metadata: parseJson<Record<string, unknown> | null>(row.metadata, null),
    members,
    datasetId: row.dataset_id,
    projectId: row.project_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
