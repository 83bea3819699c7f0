import { presentDescribed } from '../described.js';
import type { DatasetsTable } from '../db.js';

export type DatasetRow = Omit<DatasetsTable, 'deleted_at'>;

export function presentDataset(row: DatasetRow) {
  return {
    ...presentDescribed(row),
    projectId: row.project_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
