import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { jsonPages } from '../../core/json-stream.js';
import { currentKey } from '../access/authenticate.js';
import type { ScriptContext } from '../context.js';
import type { ScriptDb } from '../db.js';
import { loadLeaves } from '../documents/commit.js';
import type { DocumentRow } from '../documents/present.js';
import { DOCUMENT_COLUMNS } from '../documents/repo.js';
import { conflictRevs, sortLeaves, type Leaf } from '../documents/tree.js';
import { isKeyLive } from '../keys/repo.js';
import type { CouchDatabase } from './databases.js';
import { badRequest, notSupported } from './errors.js';
import { boundedJson } from './http.js';
import { compileSelector, type Matcher } from './mango.js';
import { answerPage, byCouchIds, couchIdOf, DESIGN_PREFIX, HEAD_COLUMNS, presentDoc, selectorDoc, STORED_BYTES, winnerOfRow, withContent } from './read.js';

// CouchDB's _changes over the same feed as the REST /changes: script_documents.last_seq. Each document
// appears once, at its latest change, with its winning revision (or every leaf, style=all_docs).
// Sequences are opaque strings to clients (here: the number as text).

export const MAX_TIMEOUT_MS = 300_000;
const DEFAULT_TIMEOUT_MS = 60_000;

export interface ChangesOptions {
  since: number | 'now';
  limit: number | null;
  descending: boolean;
  includeDocs: boolean;
  conflicts: boolean;
  attachments: boolean;
  allDocs: boolean;
  docIds: string[] | null;
  selector: Matcher | null;
  designOnly: boolean;
  feed: 'normal' | 'longpoll' | 'continuous' | 'eventsource';
  heartbeat: number | null;
  timeout: number;
}

const flag = (v: unknown) => v === 'true' || v === true;

function integer(v: unknown, name: string, min = 0): number | null {
  if (v === undefined || v === '') return null;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) throw badRequest(`Invalid ${name}: ${String(v)}`);
  return n;
}

function parseSince(v: unknown): number | 'now' {
  // CouchDB's replicator sends the checkpointed sequence JSON-encoded (`since="12"`); PouchDB sends it bare.
  if (typeof v === 'string' && v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
  if (v === undefined || v === '' || v === '0' || v === 0) return 0;
  if (v === 'now') return 'now';
  const text = String(v);
  // Opaque to clients, but only ours are accepted: a number, or CouchDB 2's "<number>-<opaque>" form.
  const m = /^(0|[1-9][0-9]{0,15})(-.*)?$/.exec(text);
  if (!m) throw badRequest(`Malformed sequence supplied in 'since' parameter: ${text}`);
  return Number(m[1]);
}

export function parseChangesOptions(query: Record<string, unknown>, body: unknown): ChangesOptions {
  const feed = (query.feed ?? 'normal') as string;
  if (!['normal', 'longpoll', 'continuous', 'eventsource'].includes(feed)) throw badRequest(`Invalid feed: ${feed}`);
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  let docIds: string[] | null = null;
  let selector: Matcher | null = null;
  let designOnly = false;
  const filter = query.filter as string | undefined;
  if (filter === '_doc_ids') {
    let ids = b.doc_ids;
    if (ids === undefined && typeof query.doc_ids === 'string') {
      try {
        boundedJson(query.doc_ids);
        ids = JSON.parse(query.doc_ids);
      } catch {
        throw badRequest('doc_ids must be a JSON array of strings.');
      }
    }
    if (!Array.isArray(ids) || !ids.every((i) => typeof i === 'string')) throw badRequest('filter=_doc_ids needs doc_ids: a JSON array of strings.');
    docIds = ids as string[];
  } else if (filter === '_selector') {
    selector = compileSelector(b.selector);
  } else if (filter === '_design') {
    designOnly = true;
  } else if (filter === '_view') {
    throw notSupported('filter=_view');
  } else if (filter !== undefined && filter !== '') {
    throw notSupported(`filter=${filter}`);
  }
  const timeout = integer(query.timeout, 'timeout') ?? DEFAULT_TIMEOUT_MS;
  const heartbeat = query.heartbeat === 'true' ? 60_000 : integer(query.heartbeat, 'heartbeat', 1);
  return {
    since: parseSince(query.since ?? b.since),
    // "Using 0 here has the same effect as 1" (CouchDB's documentation of _changes).
    limit: limitOf(integer(query.limit, 'limit', 0)),
    descending: flag(query.descending),
    includeDocs: flag(query.include_docs),
    conflicts: flag(query.conflicts),
    attachments: flag(query.attachments),
    allDocs: query.style === 'all_docs',
    docIds,
    selector,
    designOnly,
    feed: feed as ChangesOptions['feed'],
    heartbeat,
    timeout: Math.min(timeout, MAX_TIMEOUT_MS),
  };
}

const limitOf = (n: number | null | undefined) => (n === 0 ? 1 : (n ?? null));

type Row = DocumentRow & { last_seq: number };

/**
 * The rows of a page; without include_docs or a selector, only what names each document (a replicator's _changes).
 * With content, a page ascending is cut to what PAGE_CONTENT_BYTES holds (`cut`: rows were left for the next one);
 * `looked`: the rows the page query found.
 */
async function scan(db: ScriptDb, target: CouchDatabase, o: ChangesOptions, since: number, batch: number): Promise<{ rows: Row[]; cut: boolean; looked: number }> {
  const content = o.includeDocs || o.selector;
  const budgeted = content && !o.descending; // a descending feed is one page, never continued
  const columns = content && !budgeted ? [...DOCUMENT_COLUMNS, 'last_seq' as const] : [...HEAD_COLUMNS, 'last_seq' as const];
  let q = db.selectFrom('script_documents').select(columns).where('project_id', '=', target.projectId);
  if (!o.descending) q = q.where('last_seq', '>', since);
  if (o.docIds) {
    if (!o.docIds.length) return { rows: [], cut: false, looked: 0 };
    q = q.where(byCouchIds(db, o.docIds));
  }
  if (o.designOnly) q = q.where(DESIGN_PREFIX, '=', '_design/');
  const ordered = q.orderBy('last_seq', o.descending ? 'desc' : 'asc').limit(batch);
  if (!budgeted) {
    const rows = (await ordered.execute()) as Row[];
    return { rows, cut: false, looked: rows.length };
  }
  const heads = await ordered.select(STORED_BYTES).execute();
  const { rows, taken } = await withContent(db, target.projectId, heads);
  return { rows: rows as Row[], cut: taken < heads.length, looked: heads.length };
}

export interface ChangesPage {
  results: Record<string, unknown>[];
  last_seq: string;
  /** The highest sequence number looked at. */
  seq: number;
  /** The page ended at its byte budget, not at the end of the database: read on. */
  cut: boolean;
}

/** One page of changes after `since` (filters applied; `limit` counts what is answered). */
export async function readCouchChanges(sc: ScriptContext, target: CouchDatabase, o: ChangesOptions, since: number): Promise<ChangesPage> {
  const want = o.limit ?? Infinity;
  const batch = o.selector || o.designOnly ? 500 : Math.min(want, 1000);
  const results: Record<string, unknown>[] = [];
  let seq = since;
  let cut = false;
  for (;;) {
    const scanned = await scan(sc.db, target, o, seq, batch);
    const rows = scanned.rows;
    const exhausted = (scanned.looked < batch && !scanned.cut) || o.descending;
    const branched = o.allDocs || (o.includeDocs && o.conflicts) ? rows.filter((r) => r.branches > 0).map((r) => r.id) : [];
    const leaves = branched.length ? await loadLeaves(sc.db, branched) : new Map<number, Leaf[]>();
    for (const row of rows) {
      if (results.length >= want) break;
      if (!o.descending) seq = row.last_seq;
      if (o.selector && !o.selector(selectorDoc(row))) continue;
      results.push(await changeOf(sc, row, leaves.get(row.id), o));
    }
    if (results.length >= want || exhausted) break;
    // Content of one budget per page: the rest is the next page's.
    if (scanned.cut) {
      cut = true;
      break;
    }
  }
  if (o.descending && results.length) seq = Number(results[0].seq);
  return { results, seq, last_seq: String(seq), cut };
}

/** One change; `unsorted` are the document's leaves when it has branches and they are asked for. */
async function changeOf(sc: ScriptContext, row: Row, unsorted: Leaf[] | undefined, o: ChangesOptions): Promise<Record<string, unknown>> {
  const id = couchIdOf(row);
  let changes = [{ rev: row.rev }];
  let conflicts: string[] | undefined;
  if (unsorted) {
    const leaves = sortLeaves(unsorted);
    if (o.allDocs) changes = leaves.map((l) => ({ rev: l.rev }));
    conflicts = conflictRevs(leaves, row.rev);
  }
  return {
    seq: String(row.last_seq),
    id,
    changes,
    ...(row.deleted === 1 && { deleted: true }),
    ...(o.includeDocs && {
      doc: await presentDoc(sc.blobs, id, winnerOfRow(row), { attachments: o.attachments, conflicts: o.conflicts ? conflicts : undefined }),
    }),
  };
}

/** The database's update_seq: its newest change, or the latest departure of a document when that is later. */
async function lastSeqOf(db: ScriptDb, target: CouchDatabase): Promise<number> {
  const row = await db
    .selectFrom('script_projects')
    .select((eb) => [
      'seq_floor',
      eb.selectFrom('script_documents').select((d) => d.fn.max('last_seq').as('seq')).where('project_id', '=', target.projectId).as('seq'),
    ])
    .where('id', '=', target.projectId)
    .executeTakeFirst();
  return Math.max(Number(row?.seq ?? 0), Number(row?.seq_floor ?? 0));
}

/** Answers a _changes request in the feed style asked for. Waiting feeds hold no database connection. */
export async function serveChanges(sc: ScriptContext, target: CouchDatabase, o: ChangesOptions, request: FastifyRequest, reply: FastifyReply) {
  const since = o.since === 'now' ? await lastSeqOf(sc.db, target) : o.since;
  if (o.feed === 'normal' || o.descending) {
    // One page fits in memory; more (no limit: the whole database) is streamed page by page as the client reads.
    // With content a page may be cut at its byte budget: streamed, like any answer of more than a page.
    const content = o.includeDocs || o.selector;
    if (o.descending || (!content && o.limit !== null && o.limit <= answerPage(o.includeDocs, o.attachments))) {
      const page = await readCouchChanges(sc, target, o, since);
      return reply.send({ results: page.results, last_seq: page.last_seq, pending: 0 });
    }
    const at = { seq: since };
    const body = jsonPages('{"results":[', changePages(sc, target, o, at), () => `],"last_seq":${JSON.stringify(String(at.seq))},"pending":0}\n`);
    return reply.type('application/json; charset=utf-8').send(body);
  }

  // Watch before reading, so that a change committed in between is not missed.
  const waiter = await sc.changes.watch();
  const gone = new AbortController();
  const raw = reply.raw;
  const onClose = () => gone.abort();
  raw.on('close', onClose);
  reply.hijack();
  const headers = {
    ...(reply.getHeaders() as Record<string, string>),
    'content-type': o.feed === 'eventsource' ? 'text/event-stream' : 'application/json',
    'cache-control': 'no-cache',
  };
  raw.writeHead(200, headers);
  const heartbeat = o.heartbeat ? setInterval(() => raw.write('\n'), o.heartbeat) : null;
  const deadline = Date.now() + o.timeout;
  let seq = since;
  let sent = 0;
  let woken = false;
  try {
    for (;;) {
      // A streamed feed goes in pages of a bounded size, each sent before the next is read (of documents: 100).
      const left = o.limit === null ? Infinity : o.limit - sent;
      const page = await readCouchChanges(sc, target, { ...o, limit: Math.min(left, answerPage(o.includeDocs, o.attachments)) }, seq);
      // A key revoked while the feed waited sees nothing more: the feed ends (its 200 is already sent). Looked at
      // only when there is something to send after a wait, so wakes for other databases cost nothing more.
      if (woken && page.results.length && !(await isKeyLive(sc.db, currentKey(request).id))) break;
      seq = page.seq;
      if (o.feed === 'longpoll') {
        if (page.results.length) return await answerLongpoll(sc, target, o, page, raw, gone.signal);
        if (Date.now() >= deadline || gone.signal.aborted) {
          raw.end(JSON.stringify({ results: [], last_seq: page.last_seq, pending: 0 }) + '\n');
          return;
        }
      } else {
        for (const change of page.results) {
          raw.write(o.feed === 'eventsource' ? `data: ${JSON.stringify(change)}\nid: ${change.seq as string}\n\n` : JSON.stringify(change) + '\n');
        }
        sent += page.results.length;
        // The next page waits until the client has taken this one: a reader that stops (or reads slowly) must
        // not make the server buffer a whole database of changes (the stall guard ends one that never reads).
        if (raw.writableNeedDrain) await once(raw, 'drain', { signal: gone.signal }).catch(() => undefined); // or gone
        // `timeout` ends a feed that has caught up (as CouchDB's does), not one still sending what was there.
        const caughtUp = !page.results.length && !page.cut;
        if ((o.limit !== null && sent >= o.limit) || (Date.now() >= deadline && caughtUp) || gone.signal.aborted) break;
      }
      if (page.results.length || page.cut) continue;
      woken = true;
      if (!(await waiter.next(deadline - Date.now(), gone.signal))) {
        // Timed out, aborted or shutting down: one last look, then the feed ends.
        if (Date.now() < deadline && !gone.signal.aborted) break;
      }
    }
    if (o.feed === 'continuous') raw.end(JSON.stringify({ last_seq: String(seq), pending: 0 }) + '\n');
    else if (o.feed === 'longpoll') raw.end(JSON.stringify({ results: [], last_seq: String(seq), pending: 0 }) + '\n');
    else raw.end();
  } catch (err) {
    request.log.error({ err }, 'changes feed failed');
    raw.destroy();
  } finally {
    if (heartbeat) clearInterval(heartbeat);
    raw.off('close', onClose);
    waiter.dispose();
  }
}

/**
 * A longpoll's answer once it has changes: every change after `since` (a longpoll from 0 names the whole database),
 * so, like the normal feed, sent a page at a time, each read once the client has taken the previous one.
 */
async function answerLongpoll(sc: ScriptContext, target: CouchDatabase, o: ChangesOptions, first: ChangesPage, raw: ServerResponse, gone: AbortSignal) {
  const at = { seq: first.seq };
  raw.write('{"results":[' + first.results.map((c) => JSON.stringify(c)).join(','));
  const rest = { ...o, limit: o.limit === null ? null : o.limit - first.results.length };
  if (first.results.length === answerPage(o.includeDocs, o.attachments) || first.cut) {
    if (raw.writableNeedDrain) await once(raw, 'drain', { signal: gone }).catch(() => undefined); // before reading the next page
    if (gone.aborted) return;
    for await (const items of changePages(sc, target, rest, at)) {
      if (items.length) raw.write(',' + items.join(','));
      if (raw.writableNeedDrain) await once(raw, 'drain', { signal: gone }).catch(() => undefined); // or gone
      if (gone.aborted) return;
    }
  }
  raw.end(`],"last_seq":${JSON.stringify(String(at.seq))},"pending":0}\n`);
}

/** A normal feed's results, a page at a time (the next read when the client has taken this one). */
async function* changePages(sc: ScriptContext, target: CouchDatabase, o: ChangesOptions, at: { seq: number }): AsyncGenerator<string[]> {
  let sent = 0;
  for (;;) {
    const want = Math.min(o.limit === null ? Infinity : o.limit - sent, answerPage(o.includeDocs, o.attachments));
    if (want <= 0) return;
    const page = await readCouchChanges(sc, target, { ...o, limit: want }, at.seq);
    at.seq = page.seq;
    yield page.results.map((c) => JSON.stringify(c));
    sent += page.results.length;
    if (page.results.length < want && !page.cut) return; // the database has no more
  }
}
