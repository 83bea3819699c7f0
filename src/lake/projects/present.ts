import { parseJson } from '../../core/db/dialect.js';
import type { ProjectsTable } from '../db.js';

export function presentProject(row: ProjectsTable) {
  return {
    id: row.id,
    name: row.name,
    slug: row.slug,
    description: row.description,
    tags: parseJson<string[]>(row.tags, []),
    metadata: parseJson<Record<string, unknown> | null>(row.metadata, null),
    namespaceId: row.namespace_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
