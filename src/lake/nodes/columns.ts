import { sql, type AliasedRawBuilder } from 'kysely';
import type { NodesTable } from '../db.js';

// A node selected beside another table's row (`p.*`) in one query: its columns under a prefix, so that
// the two rows' `id`, `name`, `created_at`… do not collide, and the node rebuilt from them.

const NODE_COLUMNS = [
  'id', 'project_id', 'parent_id', 'name', 'path', 'kind', 'leaf', 'tags', 'metadata', 'size', 'content_type',
  'sha256', 'description', 'status', 'child_count', 'created_at', 'updated_at', 'deleted_at',
] as const satisfies readonly (keyof NodesTable)[];

// A column added to NodesTable and not here fails to compile.
const complete: Exclude<keyof NodesTable, (typeof NODE_COLUMNS)[number]> extends never ? true : never = true;
void complete;

const PREFIX = 'node_';

export type PrefixedNode = { [K in keyof NodesTable as `${typeof PREFIX}${K}`]: NodesTable[K] | null };

/** The columns of the nodes table aliased `alias` as `node_<column>`. */
export function prefixedNodeColumns(alias: string): AliasedRawBuilder<unknown, string>[] {
  return NODE_COLUMNS.map((c) => sql.ref(`${alias}.${c}`).as(PREFIX + c));
}

/** Splits a row into the node (null when the join found none) and the rest of the row. */
export function splitNode<R extends PrefixedNode>(row: R): { node: NodesTable | null; rest: Omit<R, keyof PrefixedNode> } {
  const node: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (key.startsWith(PREFIX)) node[key.slice(PREFIX.length)] = value;
    else rest[key] = value;
  }
  return { node: node.id == null ? null : (node as unknown as NodesTable), rest: rest as Omit<R, keyof PrefixedNode> };
}
