import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import { dialectOf, inList, listChunk } from '../../core/db/dialect.js';
import { jsonPages } from '../../core/json-stream.js';
import type { ScriptContext } from '../context.js';
import { loadLeaves, loadTrees } from '../documents/commit.js';
import type { DocumentRow } from '../documents/present.js';
import { REV } from '../documents/revs.js';
import { conflictRevs, generationOf, latestFrom, leavesOf, sortLeaves, type Leaf, type RevNode } from '../documents/tree.js';
import { parseChangesOptions, serveChanges } from './changes.js';
import { listLocalDocs } from './local-docs.js';
import { fixedPages, onePageOrStream, pagesByStoredSize } from './pages.js';
import { badRequest } from './errors.js';
import { dbOf, flag, intParam, viewFlag, jsonBody, jsonParam, objectBody, type DbParams, type Query } from './http.js';
import {
  answerPage,
  couchIdOf,
  findDocHeads,
  findDocs,
  HEAD_COLUMNS,
  liveDocsInRange,
  loadRevisions,
  presentDoc,
  revisionFrom,
  STORED_BYTES,
  winnerJson,
  winnerOfRow,
  withContent,
  type DocumentHead,
  type IdRange,
} from './read.js';
import { parseDoc, writeCouchDocs, type CouchInput, type WriteResult } from './write.js';

/** What replicators call in bulk: _bulk_docs, _bulk_get, _revs_diff, _all_docs and _changes. */
export const bulkRoutes: FastifyPluginAsync<{ sc: ScriptContext }> = async (app, { sc }) => {
  app.post<{ Params: DbParams }>('/:db/_bulk_docs', async (request, reply) => {
    const { key, target } = await dbOf(sc, request);
    const body = objectBody(request);
    if (!Array.isArray(body.docs)) throw badRequest('POST body must include `docs` parameter.');
    const newEdits = body.new_edits !== false;
    const inputs: (CouchInput | WriteResult)[] = [];
    for (const raw of body.docs) {
      try {
        inputs.push(await parseDoc(sc, raw, newEdits));
      } catch (err) {
        const e = err as { code?: string; message: string };
        const id = typeof (raw as { _id?: unknown })?._id === 'string' ? ((raw as { _id: string })._id) : undefined;
        if (!e.code) throw err;
        inputs.push({ ...(id !== undefined && { id }), error: e.code, reason: e.message });
      }
    }
    return reply.status(201).send(await writeCouchDocs(sc, key, target, inputs, newEdits));
  });

  app.post<{ Params: DbParams }>('/:db/_bulk_get', async (request, reply) => {
    const { target } = await dbOf(sc, request);
    const q = request.query as Query;
    const body = objectBody(request);
    if (!Array.isArray(body.docs)) throw badRequest('POST body must include `docs` parameter.');
    const items = body.docs as { id?: unknown; rev?: unknown; open_revs?: unknown }[];
    // An item without an id or with a bad rev fails alone (its error is its result), as in CouchDB.
    if (items.some((item) => typeof item !== 'object' || item === null || Array.isArray(item))) throw badRequest('Each of docs must be an object.');
    const options = { revs: flag(q.revs), latest: flag(q.latest), attachments: flag(q.attachments) };
    // A replicator's batch is one page, answered at once. More (a body may name a document any number of times, or
    // documents of megabytes) is streamed a page at a time as the client reads, so the answer never has to fit in
    // memory.
    const idOf = (item: BulkGetItem) => (itemError(item) === undefined ? (item.id as string) : undefined);
    const pages = await onePageOrStream(pagesByStoredSize(sc.db, target.projectId, items, options.attachments ? 1 : BULK_GET_PAGE, idOf));
    if ('page' in pages) {
      const results: string[] = [];
      for await (const result of bulkGetResults(sc, target.projectId, pages.page, options)) results.push(result);
      return reply.type('application/json').send(`{"results":[${results.join(',')}]}`);
    }
    // Each page is one read of the database; its results go out one by one (one may be a large document).
    const { stream } = pages;
    async function* itemResults(): AsyncGenerator<string[]> {
      for await (const page of stream) {
        for await (const result of bulkGetResults(sc, target.projectId, page, options)) yield [result];
      }
    }
    return reply.type('application/json').send(jsonPages('{"results":[', itemResults(), () => ']}'));
  });

  /** _revs_diff: which of the revisions named per document this database lacks, and what it has older than them. */
  const revsDiff = async (request: FastifyRequest) => {
    const { target } = await dbOf(sc, request);
    const body = objectBody(request);
    const asked = new Map<string, string[]>();
    for (const [id, revs] of Object.entries(body)) {
      if (!Array.isArray(revs) || !revs.every((r) => typeof r === 'string')) throw badRequest(`Revisions of ${id} must be a list of strings.`);
      if (!revs.every((r) => /^[0-9]+-/.test(r as string))) throw badRequest('Invalid rev format'); // CouchDB's answer to a rev with no generation
      asked.set(id, revs as string[]);
    }
    const rows = await findDocHeads(sc.db, target.projectId, [...asked.keys()]);
    const unsure = [...asked].flatMap(([id, revs]) => {
      const row = rows.get(id);
      return row ? revs.filter((r) => r !== row.rev && REV.test(r)).map((rev) => ({ documentId: row.id, rev })) : [];
    });
    const known = new Set<string>();
    const dialect = dialectOf(sc.db);
    for (let i = 0; i < unsure.length; i += listChunk(dialect)) {
      const part = unsure.slice(i, i + listChunk(dialect));
      const found = await sc.db
        .selectFrom('script_revisions')
        .select(['document_id', 'rev'])
        .where(inList(dialect, sql.ref('document_id'), [...new Set(part.map((p) => p.documentId))], 'bigint'))
        .where(inList(dialect, sql.ref('rev'), [...new Set(part.map((p) => p.rev))], 'text'))
        .execute();
      for (const f of found) known.add(`${f.document_id} ${f.rev}`);
    }
    const missingOf = new Map<string, string[]>();
    for (const [id, revs] of asked) {
      const row = rows.get(id);
      const missing = revs.filter((r) => !row || (r !== row.rev && !known.has(`${row.id} ${r}`)));
      if (missing.length) missingOf.set(id, [...new Set(missing)]);
    }
    // CouchDB's possible_ancestors: the document's leaves older than a missing revision. A replicator sends them
    // to the source as atts_since, so that attachments this side already has are not sent again.
    const branched = [...missingOf.keys()].map((id) => rows.get(id)).filter((row) => row !== undefined && row.branches > 0).map((row) => row!.id);
    const leaves = branched.length ? await loadLeaves(sc.db, branched) : new Map<number, Leaf[]>();
    const out: Record<string, { missing: string[]; possible_ancestors?: string[] }> = {};
    for (const [id, missing] of missingOf) {
      const row = rows.get(id);
      const newest = Math.max(...missing.map((r) => (REV.test(r) ? generationOf(r) : 0)));
      const ancestors = row ? (leaves.get(row.id) ?? [{ rev: row.rev }]).map((l) => l.rev).filter((r) => generationOf(r) < newest) : [];
      out[id] = { missing, ...(ancestors.length && { possible_ancestors: ancestors }) };
    }
    return out;
  };
  app.post<{ Params: DbParams }>('/:db/_revs_diff', revsDiff);
  // The older replicators' question (CouchDB 1.x): the same answer, without possible_ancestors.
  app.post<{ Params: DbParams }>('/:db/_missing_revs', async (request) => ({
    missing_revs: Object.fromEntries(Object.entries(await revsDiff(request)).map(([id, { missing }]) => [id, missing])),
  }));

  const allDocs = async (request: FastifyRequest, reply: FastifyReply) => {
    const { target } = await dbOf(sc, request);
    const { q, keys } = viewOptions(request);
    const includeDocs = viewFlag(q, 'include_docs');
    // conflicts=true lists each included document's _conflicts, as CouchDB does (it means nothing without include_docs).
    const conflicts = viewFlag(q, 'conflicts') && includeDocs;
    /** The _conflicts of these rows' documents that have branches (one read of their leaves), when asked for. */
    const conflictsOf = async (rows: DocumentHead[]): Promise<Map<number, string[]>> => {
      const branched = conflicts ? rows.filter((r) => r.branches > 0) : [];
      const leaves = branched.length ? await loadLeaves(sc.db, branched.map((r) => r.id)) : new Map<number, Leaf[]>();
      return new Map(branched.map((r) => [r.id, conflictRevs(leaves.get(r.id) ?? [], r.rev)]));
    };
    const descending = viewFlag(q, 'descending');
    const limit = intParam(q, 'limit');
    const skip = intParam(q, 'skip') ?? 0;
    const attachments = viewFlag(q, 'attachments');
    const total = await sc.db
      .selectFrom('script_documents')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('project_id', '=', target.projectId)
      .where('deleted', '=', 0)
      .executeTakeFirst();
    const total_rows = Number(total?.n ?? 0);

    if (keys !== undefined) {
      let wanted = descending ? [...keys].reverse() : keys;
      wanted = wanted.slice(skip, limit === undefined ? undefined : skip + limit);
      /** The rows of a page of keys, in their order: one read of their documents. */
      const rowsOf = async (part: unknown[]) => {
        const named = part.filter((k): k is string => typeof k === 'string');
        // Without include_docs, only what names the documents is read (a body can be megabytes).
        const found: Map<string, DocumentHead> = includeDocs ? await findDocs(sc.db, target.projectId, named) : await findDocHeads(sc.db, target.projectId, named);
        const conflicted = await conflictsOf([...found.values()]);
        const rows = [];
        for (const k of part) {
          const row = typeof k === 'string' ? found.get(k) : undefined;
          if (!row || typeof k !== 'string') rows.push({ key: k, error: 'not_found' });
          else if (row.deleted) rows.push({ id: k, key: k, value: { rev: row.rev, deleted: true }, ...(includeDocs && { doc: null }) });
          else {
            const doc = includeDocs && (await presentDoc(sc.blobs, k, winnerOfRow(row as DocumentRow), { attachments, conflicts: conflicted.get(row.id) }));
            rows.push({ id: k, key: k, value: { rev: row.rev }, ...(includeDocs && { doc }) });
          }
        }
        return rows;
      };
      // Keys may name a document any number of times, and documents may be megabytes: more than a page (in keys,
      // or with documents in bytes too) is streamed as the client reads.
      const keysPage = answerPage(includeDocs, attachments);
      const idOf = (k: unknown) => (typeof k === 'string' ? k : undefined);
      const pages = await onePageOrStream(includeDocs ? pagesByStoredSize(sc.db, target.projectId, wanted, keysPage, idOf) : fixedPages(wanted, keysPage));
      if ('page' in pages) return { total_rows, offset: skip, rows: await rowsOf(pages.page) };
      const { stream } = pages;
      async function* keyRows(): AsyncGenerator<string[]> {
        for await (const page of stream) yield (await rowsOf(page)).map((r) => JSON.stringify(r));
      }
      return reply.type('application/json; charset=utf-8').send(jsonPages(`{"total_rows":${total_rows},"offset":${skip},"rows":[`, keyRows(), () => ']}\n'));
    }

    const range = idRangeOf(q);
    // Only what names the documents is read (a body can be megabytes): with include_docs, their content follows,
    // as much of it as one page's byte budget holds.
    const rowsFrom = (after: string | undefined) => liveDocsInRange(sc.db, target.projectId, HEAD_COLUMNS, { ...range, after }).select(STORED_BYTES);
    /** A page of rows as _all_docs rows. */
    const present = async (rows: DocumentRow[]) => {
      const conflicted = await conflictsOf(rows);
      const out = [];
      for (const row of rows) {
        const docId = couchIdOf(row);
        const doc = includeDocs && (await presentDoc(sc.blobs, docId, winnerOfRow(row), { attachments, conflicts: conflicted.get(row.id) }));
        out.push({ id: docId, key: docId, value: { rev: row.rev }, ...(includeDocs && { doc }) });
      }
      return out;
    };
    if (limit === 0) return { total_rows, offset: skip, rows: [] };
    // More than a page (no limit: the whole database), or documents (a page may end at its byte budget), is
    // streamed a page at a time as the client reads.
    const page = answerPage(includeDocs, attachments);
    if (limit === undefined || limit > page || includeDocs) {
      async function* rowPages(): AsyncGenerator<string[]> {
        let after: string | undefined;
        let sent = 0;
        for (;;) {
          const want = Math.min(limit === undefined ? Infinity : limit - sent, page);
          if (want <= 0) return;
          let query = rowsFrom(after).limit(want);
          if (after === undefined && skip) query = query.offset(skip);
          const heads = await query.execute();
          const { rows, taken } = includeDocs ? await withContent(sc.db, target.projectId, heads) : { rows: heads as DocumentRow[], taken: heads.length };
          // A document deleted since its head was read is no longer in _all_docs.
          const live = rows.filter((row) => Number(row.deleted) !== 1);
          yield (await present(live)).map((r) => JSON.stringify(r));
          sent += taken;
          if (heads.length < want && taken === heads.length) return;
          after = couchIdOf(heads[taken - 1]);
        }
      }
      return reply.type('application/json; charset=utf-8').send(jsonPages(`{"total_rows":${total_rows},"offset":${skip},"rows":[`, rowPages(), () => ']}\n'));
    }
    let query = rowsFrom(undefined).limit(limit);
    if (skip) query = query.offset(skip);
    return { total_rows, offset: skip, rows: await present((await query.execute()) as DocumentRow[]) };
  };
  app.get<{ Params: DbParams }>('/:db/_all_docs', allDocs);
  // The design documents alone: _all_docs over their key range.
  app.get<{ Params: DbParams }>('/:db/_design_docs', (request, reply) => {
    const q = request.query as Query;
    const descending = viewFlag(q, 'descending');
    const [first, last] = descending ? ['"_design0"', '"_design/"'] : ['"_design/"', '"_design0"'];
    request.query = { ...q, startkey: q.startkey ?? q.start_key ?? first, endkey: q.endkey ?? q.end_key ?? last };
    return allDocs(request, reply);
  });
  app.post<{ Params: DbParams }>('/:db/_all_docs', allDocs);

  // The _local/ documents (replication checkpoints), with _all_docs' options; never in _all_docs itself.
  const localDocs = async (request: FastifyRequest) => {
    const { target } = await dbOf(sc, request);
    const { q, keys } = viewOptions(request);
    return listLocalDocs(sc.db, target.projectId, {
      keys,
      range: idRangeOf(q),
      skip: intParam(q, 'skip') ?? 0,
      limit: intParam(q, 'limit'),
      includeDocs: viewFlag(q, 'include_docs'),
    });
  };
  app.get<{ Params: DbParams }>('/:db/_local_docs', localDocs);
  app.post<{ Params: DbParams }>('/:db/_local_docs', localDocs);

  const changes = async (request: FastifyRequest, reply: FastifyReply) => {
    const { target } = await dbOf(sc, request);
    const body = request.method === 'POST' ? jsonBody(request) : undefined;
    const options = parseChangesOptions(request.query as Query, body);
    return serveChanges(sc, target, options, request, reply);
  };
  app.get<{ Params: DbParams }>('/:db/_changes', changes);
  app.post<{ Params: DbParams }>('/:db/_changes', changes);
};

/** _all_docs options that a POST may send in its body too, as JSON values; those holding a key are JSON in a query. */
const VIEW_OPTIONS = ['key', 'startkey', 'start_key', 'endkey', 'end_key', 'limit', 'skip', 'descending', 'include_docs', 'conflicts', 'inclusive_end', 'attachments'];

/** The options of an _all_docs-like request (a POST's body's too, see withBodyOptions) and its `keys`, a list if any. */
function viewOptions(request: FastifyRequest): { q: Query; keys?: unknown[] } {
  const body = request.method === 'POST' ? ((jsonBody(request) as Record<string, unknown> | undefined) ?? {}) : {};
  const q = withBodyOptions(body, request.query as Query);
  const keys = body.keys ?? jsonParam(q, 'keys');
  if (keys !== undefined && !Array.isArray(keys)) throw badRequest('`keys` must be an array.');
  return { q, keys: keys as unknown[] | undefined };
}

/**
 * The `_id`s an _all_docs-like request walks: `key` alone, or from `startkey` (always included) to `endkey` (as
 * `inclusive_end` says); descending, startkey is the upper end.
 */
function idRangeOf(q: Query): IdRange {
  const key = jsonParam(q, 'key');
  const start = key !== undefined ? key : jsonParam(q, 'startkey', 'start_key');
  const end = key !== undefined ? key : jsonParam(q, 'endkey', 'end_key');
  const descending = viewFlag(q, 'descending');
  const first = typeof start === 'string' ? { value: start, inclusive: true } : undefined;
  const last = typeof end === 'string' ? { value: end, inclusive: viewFlag(q, 'inclusive_end', true) } : undefined;
  return descending ? { lower: last, upper: first, descending } : { lower: first, upper: last };
}

/**
 * The options of a POST _all_docs: its body's, as query values, then the query string's over them (CouchDB reads
 * the body, then the query string). A value of the wrong type fails as it would in the query string.
 */
function withBodyOptions(body: Record<string, unknown>, query: Query): Query {
  const options: Query = {};
  for (const name of VIEW_OPTIONS) {
    const value = body[name];
    if (value !== undefined) options[name] = JSON.stringify(value);
  }
  return { ...options, ...query };
}

/** Items of a _bulk_get answered per page (one with inline attachments); a replicator's batch fits in one. */
const BULK_GET_PAGE = 500;

type BulkGetItem = { id?: unknown; rev?: unknown; open_revs?: unknown };

/** What is wrong with a _bulk_get item, as CouchDB says it in that item's result (undefined: nothing). */
function itemError(item: BulkGetItem): { id: unknown; rev: unknown; reason: string } | undefined {
  if (item.id === undefined || item.id === null) return { id: null, rev: null, reason: 'document id missed' };
  if (typeof item.id !== 'string') return { id: item.id, rev: null, reason: 'Document id must be a string' };
  if (item.rev !== undefined && (typeof item.rev !== 'string' || !REV.test(item.rev))) return { id: item.id, rev: item.rev, reason: 'Invalid rev format' };
  return undefined;
}

/** The `results` entries (JSON text) for one page of _bulk_get items: one read of their rows, trees and bodies. */
async function* bulkGetResults(
  sc: ScriptContext,
  projectId: number,
  items: BulkGetItem[],
  { revs, latest, attachments }: { revs: boolean; latest: boolean; attachments: boolean },
): AsyncGenerator<string> {
  const rows = await findDocs(sc.db, projectId, items.filter((i) => itemError(i) === undefined).map((i) => i.id as string));
  // A first revision without branches is its own history: no tree to load for it.
  const needTrees = [...rows.values()].filter((r) => r.branches > 0 || ((revs || latest) && r.generation > 1)).map((r) => r.id);
  const trees = needTrees.length ? await loadTrees(sc.db, needTrees) : new Map<number, RevNode[]>();

  const plans = items.map((item) => {
    const error = itemError(item);
    if (error) return { id: '', error, wanted: [] };
    const id = item.id as string;
    const row = rows.get(id);
    if (!row) return { id, row, wanted: [item.rev as string | undefined] };
    const tree = trees.get(row.id);
    let wanted: string[];
    // No rev is every leaf, as CouchDB answers (open_revs=all); a document without branches has one, its winner.
    if (item.rev !== undefined) wanted = [item.rev as string];
    else if (Array.isArray(item.open_revs)) wanted = [...new Set(item.open_revs.filter((r): r is string => typeof r === 'string'))];
    else if (tree && row.branches > 0) wanted = sortLeaves(leavesOf(tree)).map((l) => l.rev);
    else wanted = [row.rev];
    if (latest && tree) wanted = [...new Set(wanted.flatMap((r) => (tree.some((n) => n.rev === r) ? latestFrom(tree, r).map((l) => l.rev) : [r])))];
    return { id, row, wanted };
  });
  const older = plans.flatMap((p) => (p.row ? p.wanted.filter((r) => r !== p.row!.rev).map((rev) => ({ documentId: p.row!.id, rev: rev! })) : []));
  const bodies = older.length ? await loadRevisions(sc.db, older) : new Map();

  // The answer is written as JSON text: a replicator's pull is mostly winning revisions, whose stored bodies
  // go into it as they are (winnerJson).
  for (const p of plans) {
    if ('error' in p && p.error) {
      const { id, rev, reason } = p.error;
      yield JSON.stringify({ id, docs: [{ error: { id, rev, error: 'bad_request', reason } }] });
      continue;
    }
    const docs: string[] = [];
    for (const rev of p.wanted) {
      const tree = p.row ? trees.get(p.row.id) : undefined;
      if (p.row && rev === p.row.rev && !attachments) {
        docs.push(`{"ok":${winnerJson(p.id, p.row, revs, tree)}}`);
        continue;
      }
      const found = p.row && (rev === p.row.rev ? winnerOfRow(p.row) : revisionFrom(bodies, p.row.id, rev!));
      if (!found || found.pruned) {
        docs.push(JSON.stringify({ error: { id: p.id, rev: rev ?? 'undefined', error: 'not_found', reason: 'missing' } }));
      } else {
        docs.push(JSON.stringify({ ok: await presentDoc(sc.blobs, p.id, found, { tree, revs, attachments }) }));
      }
    }
    yield `{"id":${JSON.stringify(p.id)},"docs":[${docs.join(',')}]}`;
  }
}
