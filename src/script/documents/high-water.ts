import { sql } from 'kysely';
import { dialectOf, nextAutoIds } from '../../core/db/dialect.js';
import type { ScriptDb } from '../db.js';

// Document IDs and change sequence numbers are never handed out twice. PostgreSQL's sequences see to that. SQLite
// hands out max + 1, and a purge or a database delete can remove the newest rows: a client whose checkpoint is
// `since=S` would then miss a new change numbered S again, and a REST client would see an ID name another document.
// So whatever removes rows first records the highest number it may take away (a high-water mark in
// script_settings), and on SQLite new numbers start above both the table's maximum and that mark.

const MARKS = {
  seq: { name: 'revision_seq_high', table: 'script_revisions', column: 'seq' },
  id: { name: 'document_id_high', table: 'script_documents', column: 'id' },
} as const;

/** `count` new change sequence numbers, in order. */
export function nextSeqs(trx: ScriptDb, count: number): Promise<number[]> {
  return next(trx, 'seq', count);
}

/** `count` new document IDs on SQLite (PostgreSQL's come from its sequence as rows are inserted): undefined there. */
export async function nextDocumentIds(trx: ScriptDb, count: number): Promise<number[] | undefined> {
  return dialectOf(trx) === 'postgres' ? undefined : next(trx, 'id', count);
}

async function next(trx: ScriptDb, kind: keyof typeof MARKS, count: number): Promise<number[]> {
  const mark = MARKS[kind];
  if (count === 0) return [];
  if (dialectOf(trx) === 'postgres') return nextAutoIds(trx, mark.table, mark.column, count);
  const { rows } = await sql<{ high: number | null }>`select max(
      coalesce((select max(${sql.ref(mark.column)}) from ${sql.table(mark.table)}), 0),
      coalesce((select cast(value as integer) from script_settings where name = ${mark.name}), 0)) as high`.execute(trx);
  const first = Number(rows[0]?.high ?? 0) + 1;
  return Array.from({ length: count }, (_, i) => first + i);
}

/**
 * After rows were inserted with IDs of their own choosing (up to `highest`): the numbering goes on above them.
 * SQLite counts from the table's maximum by itself; PostgreSQL's sequence must be told.
 */
export async function idsTakenUpTo(trx: ScriptDb, highest: number): Promise<void> {
  if (dialectOf(trx) !== 'postgres') return;
  const seq = sql`pg_get_serial_sequence(${MARKS.id.table}, ${MARKS.id.column})`;
  await sql`select setval(${seq}, greatest(nextval(${seq}), ${highest}))`.execute(trx);
}

/** Before rows of script_documents or script_revisions are deleted (in the same transaction): the marks go up to today's maxima. */
export async function keepHighWater(trx: ScriptDb): Promise<void> {
  if (dialectOf(trx) === 'postgres') return;
  for (const mark of Object.values(MARKS)) {
    await sql`insert into script_settings (name, value)
      select ${mark.name}, cast(coalesce(max(${sql.ref(mark.column)}), 0) as text) from ${sql.table(mark.table)} where true
      on conflict (name) do update set value = cast(max(cast(script_settings.value as integer), cast(excluded.value as integer)) as text)`.execute(trx);
  }
}

/**
 * A document leaves project `projectId` (moved to another one, purged) at `seq` (a move's new seq), or with the
 * project's newest change when `seq` is absent: the project's update_seq stays at least there (seq_floor).
 */
export async function keepSeqFloor(trx: ScriptDb, projectId: number, seq?: number): Promise<void> {
  const at = seq ?? sql<number>`(select coalesce(max(last_seq), 0) from script_documents where project_id = ${projectId})`;
  await trx
    .updateTable('script_projects')
    .set({ seq_floor: sql<number>`case when seq_floor < ${at} then ${at} else seq_floor end` })
    .where('id', '=', projectId)
    .execute();
}
