import { badRequest } from '../../core/errors.js';
import type { ScriptDb } from '../db.js';
import { commitWrites, loadLeaves, type NewRevision, parseAttachments } from './commit.js';
import type { DocumentRow } from './present.js';
import { revisionOf, type DocumentState } from './revs.js';

// The REST API's writes, as revisions of the shared store (commit.ts): a create starts a tree, a replace
// extends its winning revision. Fields that only CouchDB clients see (other body fields, attachments)
// are carried over, as a REST client cannot see them and should not destroy them; a deletion keeps none.

export function stateOf(row: DocumentRow): DocumentState {
  return { title: row.title, content: row.content, projectId: row.project_id, deleted: row.deleted === 1 };
}

/**
 * The body of a CouchDB document after a REST write: title and content change only where the write changes what
 * the REST API shows of them, so a title or content it cannot show (a number, an object: shown as "" or none)
 * stays as it is unless the write sets it.
 */
function mergedBody(base: DocumentRow | undefined, next: DocumentState): Record<string, unknown> | null {
  if (!base || base.body === null) return null;
  const body = JSON.parse(base.body) as Record<string, unknown>;
  if (next.title !== base.title) body.title = next.title;
  if (next.content !== base.content) {
    if (next.content === null) delete body.content;
    else body.content = next.content;
  }
  return body;
}

/**
 * A deletion keeps nothing of the document, as CouchDB's `DELETE` writes `{_id, _rev, _deleted: true}`: a tombstone
 * that kept the fields only CouchDB clients see would replicate them forever and match `_selector` filters.
 */
function tombstoneOf(next: DocumentState, base: DocumentRow | undefined): { state: DocumentState; body: Record<string, unknown> | null } {
  return { state: { ...next, title: '', content: null }, body: base && base.body !== null ? {} : null };
}

function restRevision(generation: number, parent: string | null, next: DocumentState, base?: DocumentRow): NewRevision {
  const { state, body } = next.deleted ? tombstoneOf(next, base) : { state: next, body: mergedBody(base, next) };
  const attachments = !next.deleted && base?.attachments ? parseAttachments(base.attachments) : null;
  return {
    rev: revisionOf(generation, state, parent, body === null && attachments === null ? null : [body, attachments]),
    parent,
    deleted: state.deleted,
    title: state.title,
    content: state.content,
    body,
    attachments,
    pruned: false,
  };
}

/** Inserts new documents at generation 1; the rows come back in the order of `states`. */
export async function insertDocuments(trx: ScriptDb, states: DocumentState[], now: string): Promise<DocumentRow[]> {
  if (states.length === 0) return [];
  return commitWrites(trx, states.map((s) => ({ projectId: s.projectId, couchId: null, added: [restRevision(1, null, s)] })), now);
}

/**
 * The document as a write left it, and the revision the write added. They differ when a deletion's tombstone
 * leaves a live conflicting branch behind: that branch is the winner then, the document lives on, and the
 * answer still names the tombstone (as CouchDB's DELETE does).
 */
export interface Replaced {
  row: DocumentRow;
  rev: string;
}

/** Writes the next revision of `current`, on top of its winning one. */
export async function replaceDocument(trx: ScriptDb, current: DocumentRow, next: DocumentState, now: string): Promise<Replaced> {
  const leaves = current.branches > 0 ? (await loadLeaves(trx, [current.id])).get(current.id) : undefined;
  const added = [restRevision(current.generation + 1, current.rev, next, current)];
  const [row] = await commitWrites(trx, [{ current, projectId: next.projectId, couchId: null, leaves, added }], now);
  return { row, rev: added[0].rev };
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
