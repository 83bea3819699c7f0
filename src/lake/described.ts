import { parseJson } from '../core/db/dialect.js';
import { newId } from '../core/ids.js';
import { nowIso } from '../core/time.js';

// Projects, datasets and collections share name, description, tags and metadata: stored the same way,
// changed the same way by PATCH, presented the same way.

/** A JSON column's text, or null for an absent or null value. */
export function jsonColumn(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}

interface DescribedInput {
  name?: string;
  description?: string | null;
  tags?: string[];
  metadata?: Record<string, unknown> | null;
}

interface DescribedColumns {
  name?: string;
  description?: string | null;
  tags?: string;
  metadata?: string | null;
}

/** The columns every new row starts with: a fresh ID, the described fields, both timestamps, not deleted. */
export function newDescribedColumns(input: DescribedInput & { name: string }) {
  const now = nowIso();
  return {
    id: newId(),
    name: input.name,
    description: input.description ?? null,
    tags: JSON.stringify(input.tags ?? []),
    metadata: jsonColumn(input.metadata),
    created_at: now,
    updated_at: now,
    deleted_at: null,
  };
}

/** The columns a PATCH changes: only the fields it gives. */
export function describedChanges(input: DescribedInput): DescribedColumns {
  const changes: DescribedColumns = {};
  if (input.name !== undefined) changes.name = input.name;
  if (input.description !== undefined) changes.description = input.description;
  if (input.tags !== undefined) changes.tags = JSON.stringify(input.tags);
  if (input.metadata !== undefined) changes.metadata = jsonColumn(input.metadata);
  return changes;
}

interface DescribedRow {
  id: string;
  name: string;
  description: string | null;
  tags: string;
  metadata: string | null;
}

export function presentDescribed(row: DescribedRow) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    tags: parseJson<string[]>(row.tags, []),
    metadata: parseJson<Record<string, unknown> | null>(row.metadata, null),
  };
}
