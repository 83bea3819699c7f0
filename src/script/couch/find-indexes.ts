import { createHash } from 'node:crypto';
import { AppError } from '../../core/errors.js';
import type { ScriptKey } from '../keys/repo.js';
import type { ScriptContext } from '../context.js';
import { DOCUMENT_COLUMNS } from '../documents/repo.js';
import type { CouchDatabase } from './databases.js';
import { badRequest, couchError } from './errors.js';
import { throwIfFailed } from './http.js';
import { compileSelector, fieldOf, isObject, type Matcher } from './mango.js';
import { couchIdOf, DESIGN_PREFIX, findDoc, winnerOfRow } from './read.js';
import { parseDoc, writeCouchDocs } from './write.js';

// Mango indexes, stored as CouchDB stores them: a view of a design document whose language is "query",
// `views.<name> = {map: {fields: {f: "asc"}, partial_filter_selector}, reduce: "_count", options: {def}}`. So they
// replicate like any design document, and an index made on CouchDB or PouchDB works here. This server builds no
// index structure: an index decides which documents a query sees (those with every indexed field, and matching
// its partial filter) and their order; the query itself reads the database's documents.

export type Direction = 'asc' | 'desc';
export interface SortField {
  field: string;
  dir: Direction;
}

export interface MangoIndex {
  ddoc: string | null;
  name: string;
  type: 'json' | 'special';
  def: { fields: Record<string, Direction>[]; partial_filter_selector?: Record<string, unknown> };
  /** The indexed field names, in order. */
  fields: string[];
  /** Documents that have every indexed field and match the partial filter. */
  covers: Matcher;
}

export const ALL_DOCS_INDEX: MangoIndex = {
  ddoc: null,
  name: '_all_docs',
  type: 'special',
  def: { fields: [{ _id: 'asc' }] },
  fields: ['_id'],
  covers: () => true,
};

/** `["a", {"b": "desc"}]` → sort fields; every entry names one field, all in one direction (as CouchDB requires). */
export function parseSortFields(value: unknown, what: string): SortField[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw badRequest(`${what} must be an array of field names or {"field": "asc"|"desc"} objects.`);
  return value.map((entry) => {
    if (typeof entry === 'string' && entry !== '') return { field: entry, dir: 'asc' as const };
    if (isObject(entry) && Object.keys(entry).length === 1) {
      const [field, dir] = Object.entries(entry)[0];
      if (field !== '' && (dir === 'asc' || dir === 'desc')) return { field, dir };
    }
    throw badRequest(`Invalid ${what} entry ${JSON.stringify(entry)}: a field name or {"field": "asc"|"desc"}.`);
  });
}

function indexOf(ddoc: string, name: string, view: unknown): MangoIndex | undefined {
  if (!isObject(view) || !isObject(view.options) || !isObject(view.options.def)) return undefined;
  const def = view.options.def as MangoIndex['def'];
  let fields: SortField[];
  let partial: Matcher = () => true;
  try {
    fields = parseSortFields(def.fields, 'fields');
    if (def.partial_filter_selector !== undefined) partial = compileSelector(def.partial_filter_selector);
  } catch {
    return undefined; // not an index this server can read: left alone, as CouchDB leaves invalid ones
  }
  const paths = fields.map((f) => f.field.split('.'));
  return {
    ddoc,
    name,
    type: 'json',
    def: { fields: fields.map((f) => ({ [f.field]: f.dir })), ...(def.partial_filter_selector !== undefined && { partial_filter_selector: def.partial_filter_selector as Record<string, unknown> }) },
    fields: fields.map((f) => f.field),
    covers: (doc) => paths.every((p) => fieldOf(doc, p) !== undefined) && partial(doc),
  };
}

/** The database's Mango indexes: `_all_docs`, then the json indexes of its design documents, by ddoc and name. */
export async function loadIndexes(sc: ScriptContext, target: CouchDatabase): Promise<MangoIndex[]> {
  const rows = await sc.db
    .selectFrom('script_documents')
    .select(DOCUMENT_COLUMNS)
    .where('project_id', '=', target.projectId)
    .where('deleted', '=', 0)
    .where(DESIGN_PREFIX, '=', '_design/')
    .execute();
  const out: MangoIndex[] = [];
  for (const row of rows) {
    const body = winnerOfRow(row).body;
    if (!body || body.language !== 'query' || !isObject(body.views)) continue;
    for (const [name, view] of Object.entries(body.views)) {
      const index = indexOf(couchIdOf(row), name, view);
      if (index) out.push(index);
    }
  }
  out.sort((a, b) => (a.ddoc! < b.ddoc! ? -1 : a.ddoc! > b.ddoc! ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return [ALL_DOCS_INDEX, ...out];
}

/**
 * Runs a read-modify-write of a design document again when a concurrent write to it won (a 409): indexes made at
 * once into one design document (pouchdb-find apps make theirs at start-up, from every client) all land.
 */
async function retryOnConflict<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (attempt >= 20 || !(err instanceof AppError) || err.status !== 409) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt)); // spread the contenders out
    }
  }
}

/** POST /{db}/_index: adds the index to its design document (made if needed); `exists` when it is already there. */
export async function createIndex(sc: ScriptContext, key: ScriptKey, target: CouchDatabase, body: Record<string, unknown>) {
  if (!isObject(body.index)) throw couchError(400, 'missing_required_key', 'Missing required key: index');
  const type = body.type ?? 'json';
  if (type !== 'json') throw badRequest(`Index type ${JSON.stringify(type)} is not supported: only json indexes (text indexes need a search service).`);
  const fields = parseSortFields(body.index.fields, 'index.fields');
  if (!fields.length) throw badRequest('index.fields must name at least one field.');
  const partial = body.index.partial_filter_selector;
  if (partial !== undefined) compileSelector(partial);
  const def = { fields: fields.map((f) => ({ [f.field]: f.dir })), ...(partial !== undefined && { partial_filter_selector: partial }) };
  const hash = createHash('sha1').update(JSON.stringify(def)).digest('hex');
  const name = optionalName(body.name, 'name') ?? hash;
  const ddocName = optionalName(body.ddoc, 'ddoc') ?? hash;
  const ddoc = ddocName.startsWith('_design/') ? ddocName : `_design/${ddocName}`;

  return retryOnConflict(() => addView(sc, key, target, ddoc, name, def, fields, partial));
}

async function addView(
  sc: ScriptContext,
  key: ScriptKey,
  target: CouchDatabase,
  ddoc: string,
  name: string,
  def: Record<string, unknown>,
  fields: SortField[],
  partial: unknown,
) {
  const existing = await findDoc(sc.db, target.projectId, ddoc);
  const current = existing && existing.deleted === 0 ? (winnerOfRow(existing).body ?? {}) : undefined;
  if (current && current.language !== undefined && current.language !== 'query') {
    throw badRequest(`${ddoc} is a design document of language ${JSON.stringify(current.language)}, not a Mango (query) one.`);
  }
  const views = current && isObject(current.views) ? current.views : {};
  const view = views[name];
  if (isObject(view) && isObject(view.options) && JSON.stringify(view.options.def) === JSON.stringify(def)) return { result: 'exists', id: ddoc, name };
  const map = { fields: Object.fromEntries(fields.map((f) => [f.field, f.dir])), ...(partial !== undefined && { partial_filter_selector: partial }) };
  const doc = {
    ...(current ?? {}),
    _id: ddoc,
    ...(existing && { _rev: existing.rev }),
    language: 'query',
    views: { ...views, [name]: { map, reduce: '_count', options: { def } } },
  };
  const [result] = await writeCouchDocs(sc, key, target, [await parseDoc(sc, doc, true)], true);
  throwIfFailed(result);
  return { result: 'created', id: ddoc, name };
}

/** DELETE /{db}/_index/{ddoc}/json/{name}: removes the view; a design document left without views goes too. */
export async function deleteIndex(sc: ScriptContext, key: ScriptKey, target: CouchDatabase, ddocName: string, name: string) {
  const ddoc = ddocName.startsWith('_design/') ? ddocName : `_design/${ddocName}`;
  return retryOnConflict(() => removeView(sc, key, target, ddoc, name));
}

async function removeView(sc: ScriptContext, key: ScriptKey, target: CouchDatabase, ddoc: string, name: string) {
  const existing = await findDoc(sc.db, target.projectId, ddoc);
  const body = existing && existing.deleted === 0 ? (winnerOfRow(existing).body ?? {}) : undefined;
  if (!existing || !body || body.language !== 'query' || !isObject(body.views) || !(name in body.views)) {
    throw couchError(404, 'not_found', 'Index not found');
  }
  const { [name]: _gone, ...views } = body.views;
  const input = Object.keys(views).length
    ? await parseDoc(sc, { ...body, _id: ddoc, _rev: existing.rev, views }, true)
    : { id: ddoc, rev: existing.rev, deleted: true, body: {}, attachments: null };
  const [result] = await writeCouchDocs(sc, key, target, [input], true);
  throwIfFailed(result);
  return { ok: true };
}

function optionalName(value: unknown, what: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '' || value === '_design/') throw badRequest(`${what} must be a non-empty string.`);
  return value;
}
