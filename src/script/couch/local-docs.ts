import { sql } from 'kysely';
import { bytewiseText, dialectOf, relaxedCommitReturning } from '../../core/db/dialect.js';
import type { ScriptDb } from '../db.js';
import { badRequest, missing, updateConflict } from './errors.js';
import type { IdRange } from './read.js';

// _local documents: replication checkpoints, never replicated and not in _changes. Their revs count up
// ("0-1", "0-2", …). A write is one statement: it has no sequence number to keep in order, so it does not
// queue behind document writes (serializeWrites), and the rev check and the write cannot be split by another
// writer. A checkpoint lost to a database crash only makes a replicator look again at changes it already
// has, so on PostgreSQL it commits without waiting for the WAL flush (relaxedCommitReturning).

export async function readLocalDoc(db: ScriptDb, projectId: number, id: string): Promise<Record<string, unknown>> {
  const row = await db.selectFrom('script_local_docs').select(['rev', 'body']).where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst();
  if (!row) throw missing();
  return { ...(JSON.parse(row.body) as object), _id: `_local/${id}`, _rev: row.rev };
}

/**
 * Writes `_local/{id}`; answers its new rev. `rev` must be the current one; without it the document is
 * created, or overwritten. "0-0" names a document that does not exist yet.
 */
export async function writeLocalDoc(db: ScriptDb, projectId: number, id: string, rev: string | undefined, fields: Record<string, unknown>): Promise<string> {
  const body = JSON.stringify(fields);
  const next = sql<string>`'0-' || (cast(substr(script_local_docs.rev, 3) as integer) + 1)`;
  const returning = ['rev' as const, ...relaxedCommitReturning(db)];
  const written =
    rev !== undefined && rev !== '0-0'
      ? await db
          .updateTable('script_local_docs')
          .set({ rev: next, body })
          .where('project_id', '=', projectId)
          .where('id', '=', id)
          .where('rev', '=', rev)
          .returning(returning)
          .executeTakeFirst()
      : await db
          .insertInto('script_local_docs')
          .values({ project_id: projectId, id, rev: '0-1', body })
          .onConflict((oc) => (rev === undefined ? oc.columns(['project_id', 'id']).doUpdateSet({ rev: next, body }) : oc.doNothing()))
          .returning(returning)
          .executeTakeFirst();
  if (!written) throw updateConflict();
  return written.rev;
}

export async function deleteLocalDoc(db: ScriptDb, projectId: number, id: string): Promise<void> {
  const result = await db.deleteFrom('script_local_docs').where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst();
  if (result.numDeletedRows === 0n) throw missing();
}

/** Most rows of one _local_docs answer: checkpoints are few (one per replication peer). */
export const LOCAL_DOCS_LIMIT = 10_000;

/**
 * GET|POST /{db}/_local_docs: the `_local/` documents named by `keys`, or in `range` (of full `_id`s, byte order),
 * as _all_docs rows; CouchDB answers no total or offset for them.
 */
export async function listLocalDocs(
  db: ScriptDb,
  projectId: number,
  o: { keys?: unknown[]; range: IdRange; skip: number; limit?: number; includeDocs: boolean },
): Promise<{ total_rows: null; offset: null; rows: object[] }> {
  const fullId = bytewiseText(dialectOf(db), sql`'_local/' || id`);
  const limit = Math.min(o.limit ?? LOCAL_DOCS_LIMIT, LOCAL_DOCS_LIMIT);
  let query = db.selectFrom('script_local_docs').select(['id', 'rev', 'body']).where('project_id', '=', projectId);
  if (o.keys) {
    if (o.keys.length > LOCAL_DOCS_LIMIT) throw badRequest(`keys may name at most ${LOCAL_DOCS_LIMIT} documents.`);
    const named = o.keys.filter((k): k is string => typeof k === 'string' && k.startsWith('_local/')).map((k) => k.slice(7));
    if (!named.length) return { total_rows: null, offset: null, rows: o.keys.map((key) => ({ key, error: 'not_found' })) };
    const found = new Map((await query.where('id', 'in', named).execute()).map((r) => [`_local/${r.id}`, r]));
    const rows = o.keys.slice(o.skip, o.skip + limit).map((key) => {
      const row = typeof key === 'string' ? found.get(key) : undefined;
      return row ? rowOf(row, o.includeDocs) : { key, error: 'not_found' };
    });
    return { total_rows: null, offset: null, rows };
  }
  const { lower, upper, descending } = o.range;
  if (lower) query = query.where(fullId, lower.inclusive ? '>=' : '>', lower.value);
  if (upper) query = query.where(fullId, upper.inclusive ? '<=' : '<', upper.value);
  const rows = await query.orderBy(fullId, descending ? 'desc' : 'asc').limit(limit).offset(o.skip).execute();
  return { total_rows: null, offset: null, rows: rows.map((r) => rowOf(r, o.includeDocs)) };
}

function rowOf(row: { id: string; rev: string; body: string }, includeDocs: boolean) {
  const id = `_local/${row.id}`;
  return { id, key: id, value: { rev: row.rev }, ...(includeDocs && { doc: { ...(JSON.parse(row.body) as object), _id: id, _rev: row.rev } }) };
}
