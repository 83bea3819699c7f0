import type { FastifyPluginAsync } from 'fastify';
import type { ScriptContext } from '../context.js';
import { loadLeaves } from '../documents/commit.js';
import type { DocumentRow } from '../documents/present.js';
import { DOCUMENT_COLUMNS } from '../documents/repo.js';
import { conflictRevs, type Leaf } from '../documents/tree.js';
import type { CouchDatabase } from './databases.js';
import { badRequest, couchError } from './errors.js';
import { createIndex, deleteIndex, loadIndexes, parseSortFields, ALL_DOCS_INDEX, type MangoIndex, type SortField } from './find-indexes.js';
import { dbOf, intValue, objectBody, type DbParams } from './http.js';
import { collate, compileSelector, fieldOf, isObject, type Matcher } from './mango.js';
import { couchIdOf, liveDocsInRange, presentDoc, selectorDoc, winnerOfRow, type IdBound, type IdRange } from './read.js';

// Mango queries (POST /{db}/_find) and their indexes (/{db}/_index), as pouchdb-find and CouchDB clients use them.
// A query reads the database's documents in pages and keeps those its selector matches: the index it names (or
// the one CouchDB's planner would pick) decides which documents it sees and their order, not how they are found.

const NO_INDEX_WARNING = 'No matching index found, create an index to optimize query time.';
/** Documents read per query of a scan. */
const SCAN_PAGE = 500;

interface FindRequest {
  matcher: Matcher;
  selector: Record<string, unknown>;
  limit: number;
  skip: number;
  sort: SortField[];
  fields?: string[];
  useIndex?: [string, string | undefined];
  conflicts: boolean;
  executionStats: boolean;
}

function parseFind(body: Record<string, unknown>): FindRequest {
  if (!('selector' in body)) throw couchError(400, 'missing_required_key', 'Missing required key: selector');
  const matcher = compileSelector(body.selector);
  const limit = intValue(body.limit, 'limit') ?? 25;
  let skip = intValue(body.skip, 'skip') ?? 0;
  if (body.bookmark !== undefined && body.bookmark !== 'nil') skip = bookmarkOffset(body.bookmark);
  const sort = parseSortFields(body.sort, 'sort');
  if (new Set(sort.map((s) => s.dir)).size > 1) throw couchError(400, 'unsupported_mixed_sort', 'Sorts currently only support a single direction for all fields.');
  let fields: string[] | undefined;
  if (body.fields !== undefined) {
    if (!Array.isArray(body.fields) || !body.fields.every((f) => typeof f === 'string' && f !== '')) throw badRequest('fields must be an array of field names.');
    fields = body.fields as string[];
  }
  let useIndex: FindRequest['useIndex'];
  if (typeof body.use_index === 'string') useIndex = [body.use_index, undefined];
  else if (Array.isArray(body.use_index) && body.use_index.length >= 1 && body.use_index.length <= 2 && body.use_index.every((v) => typeof v === 'string')) {
    useIndex = [body.use_index[0] as string, body.use_index[1] as string | undefined];
  } else if (body.use_index !== undefined) throw badRequest('use_index must be a design document name or [design document, index name].');
  return { matcher, selector: body.selector as Record<string, unknown>, limit, skip, sort, fields, useIndex, conflicts: body.conflicts === true, executionStats: body.execution_stats === true };
}

/** Bookmarks are opaque to clients: here, the offset of the next page in the query's order. */
function bookmarkOf(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString('base64url');
}

function bookmarkOffset(value: unknown): number {
  try {
    const o = (JSON.parse(Buffer.from(String(value), 'base64url').toString()) as { o?: unknown }).o;
    if (typeof o === 'number' && Number.isSafeInteger(o) && o >= 0) return o;
  } catch {
    // refused below
  }
  throw couchError(400, 'invalid_bookmark', `Invalid bookmark value: ${JSON.stringify(value)}`);
}

/** Field names a selector constrains at its top level (and in a top-level $and), as CouchDB's planner reads them. */
function selectorFields(selector: Record<string, unknown>): Set<string> {
  const out = new Set<string>();
  for (const [key, value] of Object.entries(selector)) {
    if (key === '$and' && Array.isArray(value)) for (const s of value) if (s && typeof s === 'object') for (const f of selectorFields(s as Record<string, unknown>)) out.add(f);
    if (!key.startsWith('$')) out.add(key);
  }
  return out;
}

const named = (index: MangoIndex, [ddoc, name]: [string, string | undefined]) =>
  index.ddoc !== null && (index.ddoc === ddoc || index.ddoc === `_design/${ddoc}`) && (name === undefined || index.name === name);

/** The index a query uses: one that serves its sort, else the fullest one its selector covers, else _all_docs. */
function chooseIndex(indexes: MangoIndex[], q: FindRequest): { index: MangoIndex; warning?: string } {
  const json = indexes.filter((i) => i.type === 'json');
  const notUsed = q.useIndex ? `${q.useIndex.filter(Boolean).join(', ')} was not used because it does not contain a valid index for this query.` : undefined;
  const preferred = (usable: MangoIndex[]) => (q.useIndex && usable.find((i) => named(i, q.useIndex!))) || undefined;
  if (q.sort.length && !q.sort.every((s) => s.field === '_id')) {
    const sortFields = q.sort.map((s) => s.field);
    const usable = json.filter((i) => sortFields.every((f, n) => i.fields[n] === f));
    if (!usable.length) throw couchError(400, 'no_usable_index', 'No index exists for this sort, try indexing by the sort fields.');
    const chosen = preferred(usable);
    return { index: chosen ?? usable[0], warning: q.useIndex && !chosen ? notUsed : undefined };
  }
  if (q.sort.length) return { index: ALL_DOCS_INDEX, warning: q.useIndex ? notUsed : undefined };
  const fields = selectorFields(q.selector);
  const usable = json.filter((i) => i.fields.every((f) => fields.has(f)));
  const chosen = preferred(usable);
  if (chosen) return { index: chosen };
  if (!usable.length) return { index: ALL_DOCS_INDEX, warning: q.useIndex ? notUsed : NO_INDEX_WARNING };
  const fullest = usable.reduce((best, i) => (i.fields.length > best.fields.length ? i : best));
  return { index: fullest, warning: q.useIndex ? notUsed : undefined };
}

interface Hit {
  row: DocumentRow;
  doc: Record<string, unknown>;
}

const ASCII = /^[\x00-\x7f]*$/;
const asciiPrefix = (v: string) => /^[\x00-\x7f]*/.exec(v)![0];

/**
 * The range of `_id`s a selector allows, from its top-level `_id` conditions (and those of a top-level `$and`): the
 * common PouchDB prefix query `{_id: {$gte: "post:", $lt: "post:\uffff"}}` then reads only that range. The range
 * may be wider, never narrower: the database compares bytes (UTF-8) and the selector UTF-16 units, which agree for
 * ASCII but not beyond (astral characters sort below "\uffff" in one, above it in the other), so a bound with other
 * characters is widened to its ASCII prefix (an upper one to just past it). The selector still decides.
 */
function idBounds(selector: Record<string, unknown>): Pick<IdRange, 'lower' | 'upper'> {
  let lower: IdBound | undefined;
  let upper: IdBound | undefined;
  for (const [op, arg] of idConditions(selector)) {
    if (typeof arg !== 'string') continue;
    if (op === '$eq' || op === '$gte' || op === '$gt') lower = tighter(lower, lowerBound(arg, op !== '$gt'), true);
    if (op === '$eq' || op === '$lte' || op === '$lt') upper = tighter(upper, upperBound(arg, op !== '$lt'), false);
  }
  return { lower, upper };
}

/** The `[operator, argument]` pairs of a selector's top-level `_id` conditions (a bare value is `$eq`). */
function idConditions(selector: Record<string, unknown>): [string, unknown][] {
  return Object.entries(selector).flatMap(([key, cond]): [string, unknown][] => {
    if (key === '$and' && Array.isArray(cond)) return cond.filter(isObject).flatMap(idConditions);
    if (key !== '_id') return [];
    if (typeof cond === 'string') return [['$eq', cond]];
    return isObject(cond) ? Object.entries(cond) : [];
  });
}

const lowerBound = (value: string, inclusive: boolean): IdBound => (ASCII.test(value) ? { value, inclusive } : { value: asciiPrefix(value), inclusive: true });

function upperBound(value: string, inclusive: boolean): IdBound | undefined {
  if (ASCII.test(value)) return { value, inclusive };
  const prefix = asciiPrefix(value);
  const last = prefix.charCodeAt(prefix.length - 1);
  return prefix !== '' && last < 0x7f ? { value: prefix.slice(0, -1) + String.fromCharCode(last + 1), inclusive: false } : undefined;
}

/** Of two bounds the one that allows less (the higher for a lower bound); at the same value, the exclusive one. */
function tighter(current: IdBound | undefined, next: IdBound | undefined, higherIsTighter: boolean): IdBound | undefined {
  if (!next || !current) return next ?? current;
  if (next.value === current.value) return next.inclusive ? current : next;
  return next.value > current.value === higherIsTighter ? next : current;
}

/** Every live, non-design document of the database within `bounds`, in _id order, a page at a time. */
async function* scan(sc: ScriptContext, target: CouchDatabase, descending: boolean, bounds: Pick<IdRange, 'lower' | 'upper'>): AsyncGenerator<DocumentRow[]> {
  let after: string | undefined;
  for (;;) {
    const rows = await liveDocsInRange(sc.db, target.projectId, DOCUMENT_COLUMNS, { ...bounds, after, descending, withoutDesign: true }).limit(SCAN_PAGE).execute();
    if (rows.length) yield rows;
    if (rows.length < SCAN_PAGE) return;
    after = couchIdOf(rows[rows.length - 1]);
  }
}

async function runFind(sc: ScriptContext, target: CouchDatabase, q: FindRequest, index: MangoIndex) {
  const started = performance.now();
  const window = q.skip + q.limit;
  const byId = index.type === 'special';
  const descending = q.sort[0]?.dir === 'desc';
  const paths = index.fields.map((f) => f.split('.'));
  const order = (a: Hit, b: Hit) => {
    for (const path of paths) {
      const c = collate(fieldOf(a.doc, path), fieldOf(b.doc, path));
      if (c) return descending ? -c : c;
    }
    // Ties in the index's order: by _id, which a descending index scan also reverses.
    const x = a.doc._id as string;
    const y = b.doc._id as string;
    const c = x < y ? -1 : x > y ? 1 : 0;
    return descending ? -c : c;
  };
  let hits: Hit[] = [];
  let examined = 0;
  for await (const rows of scan(sc, target, byId && descending, idBounds(q.selector))) {
    examined += rows.length;
    for (const row of rows) {
      const doc = selectorDoc(row);
      if (index.covers(doc) && q.matcher(doc)) hits.push({ row, doc });
    }
    if (byId && hits.length >= window) break; // in _id order already: the first `window` are the answer
    if (!byId && hits.length > 2 * window + SCAN_PAGE) hits = hits.sort(order).slice(0, window);
  }
  if (!byId) hits.sort(order);
  const page = hits.slice(q.skip, window);

  const branched = q.conflicts ? page.filter((h) => h.row.branches > 0).map((h) => h.row.id) : [];
  const leaves = branched.length ? await loadLeaves(sc.db, branched) : new Map<number, Leaf[]>();
  const docs = [];
  for (const { row } of page) {
    const id = couchIdOf(row);
    const own = leaves.get(row.id);
    const conflicts = own && conflictRevs(own, row.rev);
    const doc = await presentDoc(sc.blobs, id, winnerOfRow(row), { conflicts });
    docs.push(q.fields ? project(doc, q.fields) : doc);
  }
  return {
    docs,
    bookmark: bookmarkOf(q.skip + page.length),
    ...(q.executionStats && {
      execution_stats: {
        total_keys_examined: 0,
        total_docs_examined: examined,
        total_quorum_docs_examined: 0,
        results_returned: docs.length,
        execution_time_ms: Math.round((performance.now() - started) * 1000) / 1000,
      },
    }),
  };
}

/** Only the named (dotted) fields of a document, nested as they were. */
function project(doc: Record<string, unknown>, fields: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const path = field.split('.');
    const value = fieldOf(doc, path);
    if (value === undefined) continue;
    let at = out;
    for (const part of path.slice(0, -1)) at = (at[part] ??= {}) as Record<string, unknown>;
    at[path[path.length - 1]] = value;
  }
  return out;
}

export const findRoutes: FastifyPluginAsync<{ sc: ScriptContext }> = async (app, { sc }) => {
  app.post<{ Params: DbParams }>('/:db/_find', async (request) => {
    const { target } = await dbOf(sc, request);
    const q = parseFind(objectBody(request));
    const { index, warning } = chooseIndex(await loadIndexes(sc, target), q);
    const result = await runFind(sc, target, q, index);
    return warning ? { ...result, warning } : result;
  });

  app.post<{ Params: DbParams }>('/:db/_explain', async (request) => {
    const { target } = await dbOf(sc, request);
    const body = objectBody(request);
    const q = parseFind(body);
    const { index } = chooseIndex(await loadIndexes(sc, target), q);
    return {
      dbname: request.params.db,
      index: { ddoc: index.ddoc, name: index.name, type: index.type, def: index.def },
      selector: q.selector,
      opts: { use_index: q.useIndex?.filter(Boolean) ?? [], bookmark: body.bookmark ?? 'nil', limit: q.limit, skip: q.skip, sort: Object.fromEntries(q.sort.map((s) => [s.field, s.dir])), fields: q.fields ?? 'all_fields', conflicts: q.conflicts, r: [49] },
      limit: q.limit,
      skip: q.skip,
      fields: q.fields ?? 'all_fields',
    };
  });

  app.get<{ Params: DbParams }>('/:db/_index', async (request) => {
    const { target } = await dbOf(sc, request);
    const indexes = await loadIndexes(sc, target);
    return { total_rows: indexes.length, indexes: indexes.map((i) => ({ ddoc: i.ddoc, name: i.name, type: i.type, def: i.def })) };
  });

  app.post<{ Params: DbParams }>('/:db/_index', async (request) => {
    const { key, target } = await dbOf(sc, request);
    return createIndex(sc, key, target, objectBody(request));
  });

  const remove = async (request: import('fastify').FastifyRequest<{ Params: DbParams & { ddoc: string; name: string } }>) => {
    const { key, target } = await dbOf(sc, request);
    return deleteIndex(sc, key, target, request.params.ddoc, request.params.name);
  };
  app.delete<{ Params: DbParams & { ddoc: string; name: string } }>('/:db/_index/:ddoc/json/:name', remove);
  app.delete<{ Params: DbParams & { ddoc: string; name: string } }>('/:db/_index/_design/:ddoc/json/:name', remove);
};
