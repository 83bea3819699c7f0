import { parseJson } from '../../core/db/dialect.js';
import type { NodesTable } from '../db.js';
import { nodePath } from '../original/paths.js';

/** An episode; `nodePath` is its path rooted at the project slug (what the original clients read). */
export function presentEpisode(row: NodesTable, projectSlug: string) {
  const folder = row.path.slice(0, row.path.length - row.name.length - 1);
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    status: row.status ?? 'running',
    tags: parseJson<string[]>(row.tags, []),
    metadata: parseJson<Record<string, unknown> | null>(row.metadata, null),
    path: row.path,
    nodePath: nodePath(projectSlug, row.path),
    folder: folder === '' ? '/' : folder,
    parentId: row.parent_id,
    projectId: row.project_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
