import { badRequest, conflict } from '../../core/errors.js';
import type { ScriptDb } from '../db.js';
import type { DocumentRow } from './present.js';
import { DOCUMENT_COLUMNS } from './repo.js';
import { revisionOf, type DocumentState } from './revs.js';

// The storage steps every document write is made of, run inside one writeTransaction: insert or replace
// the current row, then append the new revisions (whose `seq` orders the changes feed).

// Rows per multi-row INSERT: well inside SQLite's and PostgreSQL's limits on bound parameters.
const CHUNK = 500;

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

export function stateOf(row: DocumentRow): DocumentState {
  return { title: row.title, content: row.content, projectId: row.project_id, deleted: row.deleted === 1 };
}

/** Inserts new documents at generation 1; the rows come back in the order of `states`. */
export async function insertDocuments(trx: ScriptDb, states: DocumentState[], now: string): Promise<DocumentRow[]> {
  const rows: DocumentRow[] = [];
  for (const part of chunks(states)) {
    const inserted = await trx
      .insertInto('script_documents')
      .values(
        part.map((s) => ({
          project_id: s.projectId,
          title: s.title,
          content: s.content,
          generation: 1,
          rev: revisionOf(1, s),
          deleted: 0,
          created_at: now,
          updated_at: now,
        })),
      )
      .returning(DOCUMENT_COLUMNS)
      .execute();
    // IDs are handed out in VALUES order; RETURNING order is not promised, so restore it by ID.
    rows.push(...inserted.sort((a, b) => a.id - b.id));
  }
  return rows;
}

/** Writes the next generation of `current`; a concurrent change in between is a 409. */
export async function replaceDocument(trx: ScriptDb, current: DocumentRow, next: DocumentState, now: string): Promise<DocumentRow> {
  const generation = current.generation + 1;
  const row = await trx
    .updateTable('script_documents')
    .set({
      project_id: next.projectId,
      title: next.title,
      content: next.content,
      generation,
      rev: revisionOf(generation, next),
      deleted: next.deleted ? 1 : 0,
      updated_at: now,
    })
    .where('id', '=', current.id)
    .where('generation', '=', current.generation)
    .returning(DOCUMENT_COLUMNS)
    .executeTakeFirst();
  if (!row) throw conflict(`Document ${current.id} changed meanwhile; fetch it again and retry.`);
  return row;
}

/** Appends the revisions that `rows` now hold to the history (and thereby to the changes feed). */
export async function appendRevisions(trx: ScriptDb, rows: DocumentRow[]): Promise<void> {
  for (const part of chunks(rows)) {
    await trx
      .insertInto('script_revisions')
      .values(
        part.map((row) => ({
          document_id: row.id,
          generation: row.generation,
          rev: row.rev,
          project_id: row.project_id,
          title: row.title,
          content: row.content,
          deleted: row.deleted,
          created_at: row.updated_at,
        })),
      )
      .execute();
  }
}

/** The IDs among `ids` that are live projects. */
export async function liveProjects(trx: ScriptDb, ids: number[]): Promise<Set<number>> {
  if (ids.length === 0) return new Set();
  const rows = await trx
    .selectFrom('script_projects')
    .select('id')
    .where('id', 'in', [...new Set(ids)])
    .where('deleted_at', 'is', null)
    .execute();
  return new Set(rows.map((r) => r.id));
}

export const unknownProject = (id: number) => badRequest(`Project ${id} does not exist.`, 'invalid_request');
