import type { ScriptDb } from '../db.js';

export interface Change {
  seq: number;
  id: number;
  _rev: string;
  deleted?: true;
}

/**
 * Changes after `since`, CouchDB style: each document appears once, at the sequence number of its latest
 * revision (script_documents.last_seq, shared with the CouchDB _changes feed), with its winning revision.
 */
export async function readChanges(db: ScriptDb, since: number, limit: number, scope: number[] | null): Promise<Change[]> {
  if (scope?.length === 0) return [];
  let query = db
    .selectFrom('script_documents')
    .select(['last_seq', 'id', 'rev', 'deleted'])
    .where('last_seq', '>', since);
  if (scope) query = query.where('project_id', 'in', scope);
  const rows = await query.orderBy('last_seq').limit(limit).execute();
  return rows.map((r) => ({ seq: r.last_seq, id: r.id, _rev: r.rev, ...(r.deleted === 1 && { deleted: true as const }) }));
}

/** The newest sequence number (`since=now`). */
export async function lastSeq(db: ScriptDb): Promise<number> {
  const row = await db
    .selectFrom('script_revisions')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .executeTakeFirst();
  return Number(row?.seq ?? 0);
}
