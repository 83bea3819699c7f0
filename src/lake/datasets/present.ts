import { parseJson } from '../../core/db/dialect.js';
import type { DatasetsTable } from '../db.js';

export type DatasetRow = Omit<DatasetsTable, 'deleted_at'>;

export function presentDataset(row: DatasetRow) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    tags: parseJson<string[]>(row.tags, []),
    metadata: parseJson<Record<string, unknown> | null>(row.metadata, null),
    projectId: row.project_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
