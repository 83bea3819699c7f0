import { sql } from 'kysely';
import type { LakeDb } from '../db.js';
import { LEAF_KINDS } from './kinds.js';
import { lockTree } from './tree.js';

// The seam between collections and the node tree: collection members are live files (leaves) or episodes
// of the collection's project (the original clients put episodes into bindrs); never folders.

// Bound parameters per statement stay well below SQLite's and PostgreSQL's limits.
const CHUNK = 10_000;

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/**
 * Member IDs that are not live files or episodes of the project (unknown, deleted, folders, or of
 * another project), each once, in the order given. It also takes the project's tree lock: called first
 * inside the caller's transaction, that makes "validate, then insert members" atomic against a node
 * delete, which removes its files from collections under the same lock.
 */
export async function findInvalidMembers(db: LakeDb, projectId: string, ids: string[]): Promise<string[]> {
  const unique = [...new Set(ids)];
  if (!unique.length) return [];
  await lockTree(db, projectId);
  const valid = new Set<string>();
  for (const part of chunks(unique.filter((id) => id.length > 0 && id.length <= 128))) {
    // By primary key alone, project and state checked per row: with `project_id = ?` in the WHERE clause,
    // SQLite (no statistics) walks the project's (project_id, …) index instead, a cost that grows with the
    // project's files rather than with the IDs asked for.
    const rows = await db.selectFrom('nodes').select(['id', 'project_id', 'leaf', 'kind', 'deleted_at']).where('id', 'in', part).execute();
    for (const r of rows) {
      if (r.project_id === projectId && isMemberKind(r) && r.deleted_at === null) valid.add(r.id);
    }
  }
  return unique.filter((id) => !valid.has(id));
}

/** Files and episodes may be collection members; folders may not. */
export function isMemberKind(node: { leaf: number; kind: string }): boolean {
  return Number(node.leaf) === 1 || node.kind === 'episode';
}

export interface MemberNode {
  id: string;
  path: string | null;
  kind: string | null;
  size: number | null;
  contentType: string | null;
}

/** The nodes behind member IDs, in the order given (for `?expand=nodes`); one query up to 10,000 members. */
export async function expandMembers(db: LakeDb, projectId: string, ids: string[]): Promise<MemberNode[]> {
  const found = new Map<string, MemberNode>();
  for (const part of chunks([...new Set(ids)])) {
    // By primary key alone, as in findInvalidMembers.
    const rows = await db
      .selectFrom('nodes')
      .select(['id', 'project_id', 'path', 'kind', 'size', 'content_type', 'deleted_at'])
      .where('id', 'in', part)
      .execute();
    for (const r of rows) {
      if (r.project_id !== projectId || r.deleted_at !== null) continue;
      found.set(r.id, { id: r.id, path: r.path, kind: r.kind, size: r.size === null ? null : Number(r.size), contentType: r.content_type });
    }
  }
  return ids.map((id) => found.get(id) ?? { id, path: null, kind: null, size: null, contentType: null });
}

/** Live leaf counts per kind across a namespace's live projects (every leaf kind present, 0 when none). */
export async function countLiveAssets(db: LakeDb, namespaceId: string): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('nodes as n')
    .innerJoin('projects as p', 'p.id', 'n.project_id')
    .select(['n.kind', sql<number>`count(*)`.as('c')])
    .where('p.namespace_id', '=', namespaceId)
    .where('p.deleted_at', 'is', null)
    .where('n.leaf', '=', sql.lit(1)) // a literal, so that SQLite can match the partial index
    .where('n.deleted_at', 'is', null)
    .groupBy('n.kind')
    .execute();
  const counts: Record<string, number> = Object.fromEntries(LEAF_KINDS.map((k) => [k, 0]));
  for (const r of rows) counts[r.kind] = Number(r.c);
  return counts;
}
