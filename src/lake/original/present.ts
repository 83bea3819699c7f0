import { parseJson } from '../../core/db/dialect.js';
import type { BssFilesTable } from './uploads-db.js';

export function presentFile(row: BssFilesTable) {
  return {
    id: row.id,
    hash: row.sha256,
    name: row.name,
    originalName: row.original_name,
    size: Number(row.size),
    contentType: row.content_type,
    kind: row.kind,
    owner: row.owner,
    project: row.project,
    metadata: parseJson<Record<string, unknown> | null>(row.metadata, null),
    createdAt: row.created_at,
  };
}
