import { sql } from 'kysely';
import type { BlobStore } from '../../core/blobs/store.js';
import { bytewiseText, dialectOf, inList, listChunk } from '../../core/db/dialect.js';
import type { ScriptDb } from '../db.js';
import { loadRevision, revisionOfRow, type Attachments, type NewRevision, parseAttachments } from '../documents/commit.js';
import type { DocumentRow } from '../documents/present.js';
import { byCouchIds, couchIdOf } from '../documents/couch-id.js';
import { DOCUMENT_COLUMNS } from '../documents/repo.js';
import { ancestry, revisionsField, type RevNode } from '../documents/tree.js';

// Reading documents in CouchDB's shape (a document's `_id`: documents/couch-id.ts).

export { byCouchIds, couchIdOf, NUMERIC_ID } from '../documents/couch-id.js';

/** What names a document and its revisions (no title, content, body or attachments: a body can be megabytes). */
export const HEAD_COLUMNS = ['id', 'couch_id', 'rev', 'deleted', 'branches'] as const;
export type DocumentHead = Pick<DocumentRow, (typeof HEAD_COLUMNS)[number]>;
type DocumentColumn = (typeof DOCUMENT_COLUMNS)[number];

/**
 * The first 8 characters of `couch_id`, to tell design documents (`_design/…`). Not LIKE '\_design/%': SQLite's LIKE
 * has no escape character unless told, so there the pattern matched nothing.
 */
export const DESIGN_PREFIX = sql<string>`substr(couch_id, 1, 8)`;

/** The live-or-deleted documents of one database named by these `_id`s. */
export function findDocs(db: ScriptDb, projectId: number, ids: string[]): Promise<Map<string, DocumentRow>> {
  return findBy<DocumentRow>(db, projectId, ids, DOCUMENT_COLUMNS);
}

/** findDocs without the documents' content: for answers that name revisions only (_revs_diff, _all_docs). */
export function findDocHeads(db: ScriptDb, projectId: number, ids: string[]): Promise<Map<string, DocumentHead>> {
  return findBy<DocumentHead>(db, projectId, ids, HEAD_COLUMNS);
}

/** findDocHeads with the stored size of each document's content (STORED_BYTES), read without the content. */
export function findDocSizes(db: ScriptDb, projectId: number, ids: string[]): Promise<Map<string, DocumentHead & { stored_bytes: number | string }>> {
  return findBy(db, projectId, ids, [...HEAD_COLUMNS, STORED_BYTES]);
}

async function findBy<T extends DocumentHead>(
  db: ScriptDb,
  projectId: number,
  ids: string[],
  columns: readonly (DocumentColumn | typeof STORED_BYTES)[],
): Promise<Map<string, T>> {
  const out = new Map<string, T>();
  const unique = [...new Set(ids)];
  const chunk = listChunk(dialectOf(db));
  for (let i = 0; i < unique.length; i += chunk) {
    const rows = (await db
      .selectFrom('script_documents')
      .select(columns)
      .where('project_id', '=', projectId)
      .where(byCouchIds(db, unique.slice(i, i + chunk)))
      .execute()) as unknown as T[];
    // A pushed _id wins over a REST document's ID that happens to read the same.
    for (const row of rows) if (row.couch_id === null && !out.has(couchIdOf(row))) out.set(couchIdOf(row), row);
    for (const row of rows) if (row.couch_id !== null) out.set(row.couch_id, row);
  }
  return out;
}

/**
 * What one page of documents read with their content may hold, in bytes of stored text (the first document of a
 * page comes whatever its size): pages are counted in documents, and 100 documents of megabytes each would
 * otherwise be held at once.
 */
export const PAGE_CONTENT_BYTES = 8 * 1024 * 1024;

/** The stored size of a document's content, read from the row without reading the content itself. */
export const STORED_BYTES = sql<number | string>`coalesce(octet_length(title), 0) + coalesce(octet_length(content), 0) + coalesce(octet_length(body), 0) + coalesce(octet_length(attachments), 0)`.as(
  'stored_bytes',
);

/**
 * The content of a page whose rows were read without it (with STORED_BYTES): of `heads`, the first ones whose
 * content fits PAGE_CONTENT_BYTES are read again whole (one query), in the same order. `taken` heads were
 * looked at (the next page starts after them): fewer than all when the budget cut the page. A document that left
 * the database in between (moved to another project) is left out.
 */
export async function withContent<H extends { id: number; stored_bytes: number | string }>(
  db: ScriptDb,
  projectId: number,
  heads: H[],
  budget = PAGE_CONTENT_BYTES,
): Promise<{ rows: (DocumentRow & Omit<H, keyof DocumentRow>)[]; taken: number }> {
  let taken = 0;
  for (let bytes = 0; taken < heads.length && (taken === 0 || bytes + Number(heads[taken].stored_bytes) <= budget); taken++) {
    bytes += Number(heads[taken].stored_bytes);
  }
  const page = heads.slice(0, taken);
  if (!page.length) return { rows: [], taken };
  const found = await db
    .selectFrom('script_documents')
    .select(DOCUMENT_COLUMNS)
    .where('project_id', '=', projectId)
    .where(inList(dialectOf(db), sql.ref('id'), page.map((h) => h.id), 'bigint'))
    .execute();
  const byId = new Map(found.map((row) => [Number(row.id), row as DocumentRow]));
  const rows = page.flatMap((head) => {
    const row = byId.get(Number(head.id));
    return row ? [{ ...head, ...row }] : [];
  });
  return { rows: rows as (DocumentRow & Omit<H, keyof DocumentRow>)[], taken };
}

/**
 * Rows per page of an answer too large to build whole (`_all_docs`, `_changes`): a page is held in memory, so with
 * documents fewer, and with their attachments inline one at a time.
 */
export function answerPage(includeDocs: boolean, attachments: boolean): number {
  return includeDocs && attachments ? 1 : includeDocs ? 100 : 1000;
}

export interface IdBound {
  value: string;
  inclusive: boolean;
}

/** A stretch of `_id`s in byte order, read a keyset page at a time (`after` the last `_id` of the previous page). */
export interface IdRange {
  lower?: IdBound;
  upper?: IdBound;
  after?: string;
  descending?: boolean;
  /** Leave design documents out (Mango queries never answer them). */
  withoutDesign?: boolean;
}

/** The live documents of a database within `range`, in `_id` byte order; callers add their limit (and offset). */
export function liveDocsInRange(db: ScriptDb, projectId: number, columns: readonly DocumentColumn[], range: IdRange) {
  const id = bytewiseText(dialectOf(db), couchIdSql);
  let query = db.selectFrom('script_documents').select(columns).where('project_id', '=', projectId).where('deleted', '=', 0);
  if (range.withoutDesign) query = query.where((eb) => eb.or([eb('couch_id', 'is', null), eb(DESIGN_PREFIX, '<>', '_design/')]));
  if (range.lower) query = query.where(id, range.lower.inclusive ? '>=' : '>', range.lower.value);
  if (range.upper) query = query.where(id, range.upper.inclusive ? '<=' : '<', range.upper.value);
  if (range.after !== undefined) query = query.where(id, range.descending ? '<' : '>', range.after);
  return query.orderBy(id, range.descending ? 'desc' : 'asc');
}

export async function findDoc(db: ScriptDb, projectId: number, id: string): Promise<DocumentRow | undefined> {
  return (await findDocs(db, projectId, [id])).get(id);
}

/** The winning revision, straight from the document row. */
export function winnerOfRow(row: DocumentRow): NewRevision {
  return {
    rev: row.rev,
    parent: null,
    deleted: row.deleted === 1,
    title: row.title,
    content: row.content,
    body: row.body === null ? null : (JSON.parse(row.body) as Record<string, unknown>),
    attachments: parseAttachments(row.attachments),
    pruned: false,
  };
}

/** Revision `rev` of a document: the winner from its row, else the stored one; null when not stored or compacted. */
export async function revisionAt(db: ScriptDb, row: DocumentRow, rev: string): Promise<NewRevision | null> {
  if (rev === row.rev) return winnerOfRow(row);
  const stored = await loadRevision(db, row.id, rev);
  return !stored || stored.pruned ? null : stored;
}

/**
 * The winning revision as a Mango selector sees it: what presentDoc answers of it, without attachments (a deletion
 * shows only the body it was stored with, never the title and content of a REST document).
 */
export function selectorDoc(row: DocumentRow): Record<string, unknown> {
  const w = winnerOfRow(row);
  const body = w.deleted ? w.body ?? {} : bodyOf(w);
  return { _id: couchIdOf(row), _rev: row.rev, ...body, ...(w.deleted && { _deleted: true }) };
}

export interface RevInfo {
  rev: string;
  status: 'available' | 'deleted' | 'missing';
}

/**
 * CouchDB's `_revs_info` for `rev`: its path back to the oldest revision kept, newest first, each revision
 * `available`, `deleted` (a deletion), or `missing` (only its id is kept: compacted, or known only as an ancestor).
 */
export function revsInfoOf(tree: RevNode[], rev: string): RevInfo[] {
  const byRev = new Map(tree.map((n) => [n.rev, n]));
  return ancestry(byRev, rev).map((at) => {
    const node = byRev.get(at);
    return { rev: at, status: !node || node.pruned ? 'missing' : node.deleted ? 'deleted' : 'available' };
  });
}

const revKey = (documentId: number, rev: string) => `${documentId} ${rev}`;

/** Stored revisions (with their bodies) by document and rev; pruned ones come back flagged. */
export async function loadRevisions(db: ScriptDb, wanted: { documentId: number; rev: string }[]): Promise<Map<string, NewRevision>> {
  const out = new Map<string, NewRevision>();
  const dialect = dialectOf(db);
  const chunk = listChunk(dialect);
  for (let i = 0; i < wanted.length; i += chunk) {
    const part = wanted.slice(i, i + chunk);
    const rows = await db
      .selectFrom('script_revisions')
      .select(['document_id', 'rev', 'parent', 'deleted', 'title', 'content', 'body', 'attachments', 'pruned'])
      .where(inList(dialect, sql.ref('document_id'), [...new Set(part.map((w) => w.documentId))], 'bigint'))
      .where(inList(dialect, sql.ref('rev'), [...new Set(part.map((w) => w.rev))], 'text'))
      .execute();
    for (const row of rows) out.set(revKey(row.document_id, row.rev), revisionOfRow(row));
  }
  return out;
}

export function revisionFrom(map: Map<string, NewRevision>, documentId: number, rev: string): NewRevision | undefined {
  return map.get(revKey(documentId, rev));
}

export interface PresentOptions {
  /** The document's tree, for `_revisions`. */
  tree?: RevNode[];
  revs?: boolean;
  conflicts?: string[];
  deletedConflicts?: string[];
  revsInfo?: RevInfo[];
  /** Attachment bodies inline (base64) instead of stubs. */
  attachments?: boolean;
}

export function bodyOf(rev: Pick<NewRevision, 'body' | 'title' | 'content'>): Record<string, unknown> {
  return rev.body ?? { title: rev.title, ...(rev.content !== null && { content: rev.content }) };
}

/** Bytes already in memory, as the blob store takes them. */
export async function* bytes(data: Buffer): AsyncIterable<Uint8Array> {
  yield data;
}

export async function readBlob(blobs: BlobStore, sha256: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of await blobs.get(sha256)) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

/** Attachment stubs as CouchDB lists them (no data). */
function attachmentStubs(attachments: Attachments): Record<string, unknown> {
  const atts: Record<string, unknown> = {};
  for (const [name, a] of Object.entries(attachments)) atts[name] = { content_type: a.content_type, digest: a.digest, length: a.length, revpos: a.revpos, stub: true };
  return atts;
}

function revisionsOf(rev: string, tree: RevNode[] | undefined) {
  return revisionsField(tree ? ancestry(new Map(tree.map((n) => [n.rev, n])), rev) : [rev]);
}

/** A revision as CouchDB answers it. */
export async function presentDoc(blobs: BlobStore, id: string, rev: NewRevision, options: PresentOptions = {}): Promise<Record<string, unknown>> {
  const doc: Record<string, unknown> = { _id: id, _rev: rev.rev, ...(rev.deleted ? {} : bodyOf(rev)) };
  if (rev.deleted) {
    Object.assign(doc, rev.body ?? {});
    doc._deleted = true;
  }
  if (rev.attachments && Object.keys(rev.attachments).length) {
    if (options.attachments) {
      const atts: Record<string, unknown> = {};
      for (const [name, a] of Object.entries(rev.attachments)) {
        atts[name] = { content_type: a.content_type, digest: a.digest, revpos: a.revpos, data: (await readBlob(blobs, a.sha256)).toString('base64') };
      }
      doc._attachments = atts;
    } else doc._attachments = attachmentStubs(rev.attachments);
  }
  if (options.conflicts?.length) doc._conflicts = options.conflicts;
  if (options.deletedConflicts?.length) doc._deleted_conflicts = options.deletedConflicts;
  if (options.revsInfo) doc._revs_info = options.revsInfo;
  if (options.revs) doc._revisions = revisionsOf(rev.rev, options.tree);
  return doc;
}

/**
 * The winning revision of a stored document as JSON text, with attachment stubs and, if asked, `_revisions`
 * (from `tree`, or the revision alone): the members of presentDoc's answer, but with the stored body spliced in
 * as it was stored (JSON of an object, without `_` members), instead of parsed and serialized again.
 */
export function winnerJson(id: string, row: DocumentRow, revs: boolean, tree?: RevNode[]): string {
  const deleted = row.deleted === 1;
  let out = `{"_id":${JSON.stringify(id)},"_rev":${JSON.stringify(row.rev)}`;
  const body = row.body ?? (deleted ? null : JSON.stringify(bodyOf({ body: null, title: row.title, content: row.content })));
  if (body !== null && body.length > 2) out += `,${body.slice(1, -1)}`;
  if (deleted) out += ',"_deleted":true';
  if (row.attachments !== null) {
    const attachments = parseAttachments(row.attachments)!;
    if (Object.keys(attachments).length) out += `,"_attachments":${JSON.stringify(attachmentStubs(attachments))}`;
  }
  if (revs) out += `,"_revisions":${JSON.stringify(revisionsOf(row.rev, tree))}`;
  return `${out}}`;
}

/** `coalesce(couch_id, id as text)`: the _id as the database sees it. */
export const couchIdSql = sql<string>`coalesce(couch_id, cast(id as text))`;
