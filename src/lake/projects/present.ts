import { presentDescribed } from '../described.js';
import type { ProjectsTable } from '../db.js';

export function presentProject(row: ProjectsTable) {
  return {
    ...presentDescribed(row),
    slug: row.slug,
    namespaceId: row.namespace_id,
    visibility: row.visibility ?? 'private',
    bindrCount: Number(row.collection_count ?? 0),
    datasetCount: Number(row.dataset_count ?? 0),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
