import { sql } from 'kysely';
import { dialectOf, inList, listChunk } from '../../core/db/dialect.js';
import { insertRows } from '../../core/db/insert-rows.js';
import { conflict } from '../../core/errors.js';
import type { ScriptDb } from '../db.js';
import type { DocumentRow } from './present.js';
import { NUMERIC_ID } from './couch-id.js';
import { idsTakenUpTo, keepSeqFloor, nextDocumentIds, nextSeqs } from './high-water.js';
import { DOCUMENT_COLUMNS } from './repo.js';
import { generationOf, stemmed, winnerOf, type Leaf, type RevNode } from './tree.js';

// The one way revisions are stored, for the REST API and the CouchDB endpoint alike: insert the new
// revisions of each document into its tree, recompute the winner (copied into script_documents, which
// the REST API reads), and move the document to the end of the changes feed (last_seq). Runs inside a
// writeTransaction, so writers are serialized and no other write interleaves.

/** An attachment as stored: its bytes are the blob `sha256` in the server's blob store. */
export interface AttachmentMeta {
  content_type: string;
  digest: string;
  length: number;
  revpos: number;
  sha256: string;
}
export type Attachments = Record<string, AttachmentMeta>;

/**
 * Attachments by name, in an object without a prototype: names come from clients, and `__proto__` or
 * `constructor` must name an attachment or nothing, never Object's own members.
 */
function attachmentsOf(entries: Iterable<[string, AttachmentMeta]> = []): Attachments {
  const atts = Object.create(null) as Attachments;
  for (const [name, meta] of entries) atts[name] = meta;
  return atts;
}

/** A stored attachments column (JSON) as attachmentsOf. */
export function parseAttachments(text: string | null): Attachments | null {
  return text === null ? null : attachmentsOf(Object.entries(JSON.parse(text) as Attachments));
}

/** A revision to add. `body: null` means "exactly {title, content}" (REST documents). */
export interface NewRevision {
  rev: string;
  parent: string | null;
  deleted: boolean;
  title: string;
  content: string | null;
  body: Record<string, unknown> | null;
  attachments: Attachments | null;
  /** Only the revision's id is known (an ancestor named by _revisions that this server never saw). */
  pruned: boolean;
}

export interface DocumentWrite {
  /** The stored document; absent for a new one. */
  current?: DocumentRow;
  projectId: number | null;
  /** The CouchDB _id of a new document, when it is not to be its int64 ID as a string. */
  couchId: string | null;
  /** The tree's leaves: needed only when `current.branches > 0` (see loadLeaves). */
  leaves?: Leaf[];
  /** Parents before children. */
  added: NewRevision[];
  /** _revs_limit of the document's database (stemming). */
  revsLimit?: number;
}

const CHUNK = 400;

function chunks<T>(items: T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));

/** The leaves of each document's tree (documents with branches). */
export async function loadLeaves(trx: ScriptDb, ids: number[]): Promise<Map<number, Leaf[]>> {
  const out = new Map<number, Leaf[]>();
  const dialect = dialectOf(trx);
  for (const part of chunks([...new Set(ids)], listChunk(dialect))) {
    if (!part.length) continue;
    const rows = await trx
      .selectFrom('script_revisions as r')
      .select(['r.document_id', 'r.rev', 'r.deleted'])
      .where(inList(dialect, sql.ref('r.document_id'), part, 'bigint'))
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('script_revisions as c').select('c.seq').whereRef('c.document_id', '=', 'r.document_id').whereRef('c.parent', '=', 'r.rev'))),
      )
      .execute();
    for (const r of rows) {
      const list = out.get(r.document_id) ?? [];
      list.push({ rev: r.rev, deleted: r.deleted === 1 });
      out.set(r.document_id, list);
    }
  }
  return out;
}

/** Every node (no bodies) of each document's tree. */
export async function loadTrees(db: ScriptDb, ids: number[]): Promise<Map<number, RevNode[]>> {
  const out = new Map<number, RevNode[]>();
  const dialect = dialectOf(db);
  for (const part of chunks([...new Set(ids)], listChunk(dialect))) {
    if (!part.length) continue;
    const rows = await db
      .selectFrom('script_revisions')
      .select(['document_id', 'rev', 'parent', 'deleted', 'pruned'])
      .where(inList(dialect, sql.ref('document_id'), part, 'bigint'))
      .execute();
    for (const r of rows) {
      const list = out.get(r.document_id) ?? [];
      list.push({ rev: r.rev, parent: r.parent, deleted: r.deleted === 1, pruned: r.pruned === 1 });
      out.set(r.document_id, list);
    }
  }
  return out;
}

interface Planned {
  write: DocumentWrite;
  winner: NewRevision | null; // null: the winner is unchanged (or an older revision to load)
  winnerRev: string;
  winnerDeleted: boolean;
  branches: number;
}

function plan(write: DocumentWrite): Planned {
  const leaves = new Map<string, Leaf>();
  const { current } = write;
  if (current) {
    const known = current.branches > 0 ? write.leaves : [{ rev: current.rev, deleted: current.deleted === 1 }];
    if (!known) throw new Error('the leaves of a branched document must be loaded');
    for (const leaf of known) leaves.set(leaf.rev, leaf);
  }
  for (const rev of write.added) {
    if (rev.parent !== null) leaves.delete(rev.parent);
    leaves.set(rev.rev, { rev: rev.rev, deleted: rev.deleted });
  }
  const winner = winnerOf(leaves.values());
  const added = write.added.find((r) => r.rev === winner.rev) ?? null;
  return { write, winner: added, winnerRev: winner.rev, winnerDeleted: winner.deleted, branches: leaves.size - 1 };
}

type NewDocumentColumns = ReturnType<typeof winnerColumns> & { couch_id?: string | null; created_at?: string; last_seq?: number };

/** The columns of script_documents that copy the winning revision. */
export function winnerColumns(w: NewRevision, projectId: number | null, branches: number, now: string) {
  return {
    project_id: projectId,
    title: w.title,
    content: w.content,
    body: json(w.body),
    attachments: json(w.attachments),
    generation: generationOf(w.rev),
    rev: w.rev,
    deleted: w.deleted ? 1 : 0,
    branches,
    updated_at: now,
  };
}

/** The largest int64 ID a pushed `_id` may claim: IDs past it would leave the REST API too few below 2^53. */
export const MAX_CLAIMED_ID = 2 ** 53 - 2 ** 40;

/**
 * New documents pushed with an `_id` that reads as an int64 ID no document has take that ID, so that the REST API
 * never hands it out to another document of their database (whose `_id` would then read the same). They are
 * inserted here, and the ID sequence moved past them; answers the ID of each row inserted, undefined for the rest
 * (new rows without a claim get the next IDs as before). Rows of new documents have no `_id` the database knows
 * (commit's callers looked them up), so only other databases' documents can hold such an ID.
 */
async function claimIds(trx: ScriptDb, values: NewDocumentColumns[]): Promise<(number | undefined)[]> {
  const wanted = new Map<number, number>(); // ID → row
  values.forEach((v, k) => {
    const id = v.couch_id != null && NUMERIC_ID.test(v.couch_id) ? Number(v.couch_id) : NaN;
    if (id <= MAX_CLAIMED_ID && !wanted.has(id)) wanted.set(id, k);
  });
  const ids: (number | undefined)[] = new Array(values.length);
  if (!wanted.size) return ids;
  const taken = await trx
    .selectFrom('script_documents')
    .select('id')
    .where(inList(dialectOf(trx), sql.ref('id'), [...wanted.keys()], 'bigint'))
    .execute();
  for (const row of taken) wanted.delete(Number(row.id));
  if (!wanted.size) return ids;
  const claimed = [...wanted].map(([id, k]) => {
    ids[k] = id;
    return { id, ...values[k] } as Required<NewDocumentColumns> & { id: number };
  });
  await insertRows(trx, 'script_documents', claimed);
  await idsTakenUpTo(trx, Math.max(...wanted.keys()));
  return ids;
}

/**
 * Stores the writes; answers each document's row as it now is, in the order of `writes`. A document
 * changed by someone else since it was read is a 409 (cannot happen inside one serialized transaction,
 * kept as a guard).
 */
export async function commitWrites(trx: ScriptDb, writes: DocumentWrite[], now: string): Promise<DocumentRow[]> {
  const plans = writes.map(plan);
  const rows: DocumentRow[] = new Array(writes.length);
  // The revisions' seqs are taken first, so that each document row is written once, with its last_seq (the
  // seq of its newest revision: these are the newest of all).
  const seqs = await nextSeqs(trx, plans.reduce((n, p) => n + p.write.added.length, 0));
  let taken = 0;
  const seqsOf = plans.map((p) => seqs.slice(taken, (taken += p.write.added.length)));
  const lastSeq = (i: number) => (seqsOf[i].length ? { last_seq: seqsOf[i][seqsOf[i].length - 1] } : {});

  // New documents: their winner is among the revisions added.
  const fresh = plans.map((p, i) => ({ p, i })).filter(({ p }) => !p.write.current);
  if (fresh.length) {
    // No spreads: for a bulk of a thousand documents, spreading these objects cost more than building the
    // insert's parameters. The three columns of a new row are set on winnerColumns' literal instead.
    const values = fresh.map(({ p, i }) => {
      const row: NewDocumentColumns = winnerColumns(p.winner!, p.write.projectId, p.branches, now);
      row.couch_id = p.write.couchId;
      row.created_at = now;
      row.last_seq = seqsOf[i][seqsOf[i].length - 1];
      return row as Required<NewDocumentColumns>;
    });
    const ids = await claimIds(trx, values);
    const auto = values.filter((_, k) => ids[k] === undefined);
    const chosen = await nextDocumentIds(trx, auto.length);
    if (chosen) {
      // SQLite: the IDs are chosen here (high-water.ts), so no ID is handed out twice.
      auto.forEach((v, k) => ((v as { id?: number }).id = chosen[k]));
      await insertRows(trx, 'script_documents', auto);
      for (let k = 0, next = 0; k < fresh.length; k++) ids[k] ??= chosen[next++];
    } else {
      // Only the IDs come back (the rest is what was written, bodies included). They are handed out in row
      // order; RETURNING order is not promised, so restore it by ID.
      const inserted = (await insertRows(trx, 'script_documents', auto, 'id')) as { id: number }[];
      inserted.sort((a, b) => a.id - b.id);
      for (let k = 0, next = 0; k < fresh.length; k++) ids[k] ??= inserted[next++].id;
    }
    for (let k = 0; k < fresh.length; k++) {
      const v = values[k];
      rows[fresh[k].i] = {
        id: ids[k]!,
        project_id: v.project_id,
        title: v.title,
        content: v.content,
        body: v.body,
        attachments: v.attachments,
        generation: v.generation,
        rev: v.rev,
        deleted: v.deleted,
        branches: v.branches,
        updated_at: now,
        couch_id: v.couch_id,
        created_at: now,
      };
    }
  }

  // Existing documents: a new winner (or the same one with another branch count).
  const left = new Map<number, number>(); // project a document moved out of → the seq it left at
  for (let i = 0; i < plans.length; i++) {
    const p = plans[i];
    const current = p.write.current;
    if (!current) continue;
    let winner = p.winner;
    if (!winner && p.winnerRev !== current.rev) {
      const stored = await loadRevision(trx, current.id, p.winnerRev);
      if (!stored) throw new Error(`Document ${current.id}: its winning revision ${p.winnerRev} is not stored.`);
      winner = stored;
    }
    const set = winner
      ? winnerColumns(winner, p.write.projectId, p.branches, now)
      : { branches: p.branches, ...(p.write.projectId !== current.project_id && { project_id: p.write.projectId }), updated_at: now };
    const row = await trx
      .updateTable('script_documents')
      .set({ ...set, ...lastSeq(i) })
      .where('id', '=', current.id)
      .where('rev', '=', current.rev)
      .returning(DOCUMENT_COLUMNS)
      .executeTakeFirst();
    if (!row) throw conflict(`Document ${current.id} changed meanwhile; fetch it again and retry.`);
    rows[i] = row;
    // Moved out: the old project's database saw a change at this seq, though the document is no longer there.
    if (current.project_id !== null && row.project_id !== current.project_id && seqsOf[i].length) {
      left.set(current.project_id, seqsOf[i][seqsOf[i].length - 1]); // seqs ascend: the last one is the highest
    }
  }
  for (const [projectId, seq] of left) await keepSeqFloor(trx, projectId, seq);

  const revisions = plans.flatMap((p, i) =>
    p.write.added.map((r, k) => ({
      seq: seqsOf[i][k],
      document_id: rows[i].id,
      generation: generationOf(r.rev),
      rev: r.rev,
      parent: r.parent,
      project_id: p.write.projectId,
      title: r.title,
      content: r.content,
      body: json(r.body),
      attachments: json(r.attachments),
      deleted: r.deleted ? 1 : 0,
      pruned: r.pruned ? 1 : 0,
      created_at: now,
    })),
  );
  await insertRows(trx, 'script_revisions', revisions);

  const refs = plans.flatMap((p, i) =>
    p.write.added.flatMap((r) => Object.values(r.attachments ?? {}).map((a) => ({ sha256: a.sha256, document_id: rows[i].id, rev: r.rev }))),
  );
  await insertRows(trx, 'script_attachment_refs', refs);

  // Stemming: only documents whose history may have grown past their limit pay for loading their tree.
  const long = plans
    .map((p, i) => ({ id: rows[i].id, limit: p.write.revsLimit ?? 1000, top: Math.max(...p.write.added.map((r) => generationOf(r.rev))) }))
    .filter((d) => d.top > d.limit);
  if (long.length) await stem(trx, long);
  return rows;
}

async function stem(trx: ScriptDb, docs: { id: number; limit: number }[]) {
  const trees = await loadTrees(trx, docs.map((d) => d.id));
  for (const { id, limit } of docs) {
    const drop = stemmed(trees.get(id) ?? [], limit);
    for (const part of chunks(drop)) {
      await trx.deleteFrom('script_revisions').where('document_id', '=', id).where('rev', 'in', part).execute();
      await trx.deleteFrom('script_attachment_refs').where('document_id', '=', id).where('rev', 'in', part).execute();
    }
  }
}

/** One stored revision with its body (pruned ones have none). */
/** One revision of a document; undefined when the document has no such revision (a database error still throws). */
export async function loadRevision(db: ScriptDb, documentId: number, rev: string): Promise<NewRevision | undefined> {
  const row = await db
    .selectFrom('script_revisions')
    .select(['rev', 'parent', 'deleted', 'title', 'content', 'body', 'attachments', 'pruned'])
    .where('document_id', '=', documentId)
    .where('rev', '=', rev)
    .executeTakeFirst();
  return row && revisionOfRow(row);
}

export function revisionOfRow(row: {
  rev: string;
  parent: string | null;
  deleted: number;
  title: string;
  content: string | null;
  body: string | null;
  attachments: string | null;
  pruned: number;
}): NewRevision {
  return {
    rev: row.rev,
    parent: row.parent,
    deleted: row.deleted === 1,
    title: row.title,
    content: row.content,
    body: row.body === null ? null : (JSON.parse(row.body) as Record<string, unknown>),
    attachments: parseAttachments(row.attachments),
    pruned: row.pruned === 1,
  };
}
