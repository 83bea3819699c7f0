import { presentDescribed } from '../described.js';
import type { DatasetsTable } from '../db.js';

export type DatasetRow = Omit<DatasetsTable, 'deleted_at'>;

/** A collection as listed in its dataset's `bindrs` (the original clients' name for collections). */
export interface BindrRef {
  id: string;
  name: string;
}

/** `bindrs`: the dataset's live collections, as the original clients read them. */
export function presentDataset(row: DatasetRow, bindrs: BindrRef[]) {
  return {
    ...presentDescribed(row),
    bindrs,
    projectId: row.project_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
