import { sql, type ExpressionBuilder } from 'kysely';
import { dialectOf, inList } from '../../core/db/dialect.js';
import type { ScriptDb, ScriptTables } from '../db.js';

// A document's CouchDB `_id` is its `couch_id`, or, for documents created through the REST API, its int64 ID as a
// string. Both APIs name documents this way (the CouchDB endpoint, and REST moves that must keep `_id`s unique).

export const NUMERIC_ID = /^[1-9][0-9]{0,15}$/;

export function couchIdOf(row: { id: number; couch_id: string | null }): string {
  return row.couch_id ?? String(row.id);
}

/** Documents named by these `_id`s: a pushed `_id`, or a REST document's int64 ID as a string. */
export function byCouchIds(db: ScriptDb, ids: string[]) {
  const dialect = dialectOf(db);
  const numeric = ids.filter((id) => NUMERIC_ID.test(id)).map(Number);
  const byCouchId = inList(dialect, sql.ref('couch_id'), ids, 'text');
  return (eb: ExpressionBuilder<ScriptTables, 'script_documents'>) =>
    numeric.length ? eb.or([byCouchId, eb.and([eb('couch_id', 'is', null), inList(dialect, sql.ref('id'), numeric, 'bigint')])]) : byCouchId;
}
