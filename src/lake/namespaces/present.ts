import { parseJson } from '../../core/db/dialect.js';
import type { NamespacesTable } from '../db.js';

export function presentNamespace(row: NamespacesTable, role: string) {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    kind: row.kind,
    metadata: parseJson<Record<string, unknown> | null>(row.metadata, null),
    role,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function presentMember(row: { username: string; role: string; created_at: string; updated_at: string }) {
  return { username: row.username, role: row.role, createdAt: row.created_at, updatedAt: row.updated_at };
}
