import type { ScriptDb } from '../db.js';

export interface Change {
  seq: number;
  id: number;
  _rev: string;
  deleted?: true;
}

/**
 * Changes after `since`, CouchDB style: each document appears once, at the sequence number of its current
 * revision (older revisions are skipped by the join on the current generation).
 */
export async function readChanges(db: ScriptDb, since: number, limit: number, scope: number[] | null): Promise<Change[]> {
  if (scope?.length === 0) return [];
  let query = db
    .selectFrom('script_revisions as r')
    .innerJoin('script_documents as d', (join) =>
      join.onRef('d.id', '=', 'r.document_id').onRef('d.generation', '=', 'r.generation'),
    )
    .select(['r.seq', 'r.document_id', 'r.rev', 'r.deleted'])
    .where('r.seq', '>', since);
  if (scope) query = query.where('r.project_id', 'in', scope);
  const rows = await query.orderBy('r.seq').limit(limit).execute();
  return rows.map((r) => ({ seq: r.seq, id: r.document_id, _rev: r.rev, ...(r.deleted === 1 && { deleted: true as const }) }));
}

/** The newest sequence number (`since=now`). */
export async function lastSeq(db: ScriptDb): Promise<number> {
  const row = await db
    .selectFrom('script_revisions')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .executeTakeFirst();
  return Number(row?.seq ?? 0);
}
