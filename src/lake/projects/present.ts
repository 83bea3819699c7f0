import { presentDescribed } from '../described.js';
import type { ProjectsTable } from '../db.js';

export function presentProject(row: ProjectsTable) {
  return {
    ...presentDescribed(row),
    slug: row.slug,
    namespaceId: row.namespace_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
