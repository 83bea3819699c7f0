import { parseJson } from '../../core/db/dialect.js';
import type { NodesTable } from '../db.js';

export function presentNode(row: NodesTable) {
  const node = {
    id: row.id,
    projectId: row.project_id,
    parentId: row.parent_id,
    name: row.name,
    path: row.path,
    kind: row.kind,
    leaf: Number(row.leaf) === 1,
    tags: parseJson<string[]>(row.tags, []),
    metadata: parseJson<Record<string, unknown> | null>(row.metadata, null),
    size: row.size === null ? null : Number(row.size),
    contentType: row.content_type,
    sha256: row.sha256,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  return row.kind === 'episode' ? { ...node, description: row.description, status: row.status } : node;
}
