// The fuzzer of fuzz.ts for the CouchDB endpoint (/dreamscript/couch), which /openapi.json leaves out:
// database names, document ids (_design/, _local/), attachment paths, CouchDB's query parameters, the
// bodies replicators send (_bulk_docs with new_edits:false and odd _revisions, _bulk_get, _revs_diff,
// _all_docs keys, _changes filters), attachment PUTs with odd content types, malformed Basic auth.
// A failure is a 5xx, or a 4xx whose body is not CouchDB's {error, reason}. Waiting feeds (longpoll,
// continuous, eventsource) always get a timeout of at most 50 ms. No test-runner imports (bench/fuzz.ts).

import { deepText, EVIL_QUERY, EVIL_SEGMENTS, evilValue, exchange, mutate, prng, RAW_BODIES, type FuzzReport, type FuzzRequest, type Rng } from './fuzz.js';

export const COUCH = '/dreamscript/couch';

export interface CouchFuzzSetup {
  /** Database names that exist (by name and by project ID); the first is the one the documents are in. */
  dbs: string[];
  docIds: string[];
  designIds: string[];
  localIds: string[];
  attachments: string[];
  revs: string[];
  /** Valid key secrets: admin, read-only, scoped to another database. */
  keys: string[];
}

export interface CouchFuzzTarget {
  send(request: FuzzRequest): Promise<{ statusCode: number; body: string }>;
  /** (Re)creates the data the known values name; called at the start and now and then. */
  setup(): Promise<CouchFuzzSetup>;
}

const ROUTES: [string, string[]][] = [
  ['/', ['GET', 'HEAD', 'POST']],
  ['/_up', ['GET']],
  ['/_uuids', ['GET']],
  ['/_session', ['GET', 'POST', 'DELETE']],
  ['/_all_dbs', ['GET']],
  ['/_dbs_info', ['GET', 'POST']],
  ['/_replicate', ['POST']],
  ['/{db}', ['GET', 'HEAD', 'PUT', 'POST', 'DELETE']],
  ['/{db}/', ['GET', 'PUT', 'DELETE']],
  ['/{db}/_ensure_full_commit', ['POST']],
  ['/{db}/_compact', ['POST']],
  ['/{db}/_revs_limit', ['GET', 'PUT']],
  ['/{db}/_security', ['GET', 'PUT']],
  ['/{db}/_bulk_docs', ['POST']],
  ['/{db}/_bulk_get', ['POST']],
  ['/{db}/_revs_diff', ['POST']],
  ['/{db}/_missing_revs', ['POST']],
  ['/{db}/_local_docs', ['GET', 'POST']],
  ['/{db}/_view_cleanup', ['POST']],
  ['/{db}/_all_docs', ['GET', 'POST']],
  ['/{db}/_changes', ['GET', 'POST']],
  ['/{db}/_find', ['POST']],
  ['/{db}/_explain', ['POST']],
  ['/{db}/_index', ['GET', 'POST']],
  ['/{db}/_index/{ddoc}/json/{att}', ['DELETE']],
  ['/{db}/_index/_design/{ddoc}/json/{att}', ['DELETE']],
  ['/{db}/_purge', ['POST']],
  ['/{db}/{doc}', ['GET', 'HEAD', 'PUT', 'DELETE', 'COPY']],
  ['/{db}/_design/{ddoc}', ['GET', 'PUT', 'DELETE']],
  ['/{db}/_design/{ddoc}/_view/{att}', ['GET', 'POST']],
  ['/{db}/_local/{local}', ['GET', 'PUT', 'DELETE']],
  ['/{db}/{doc}/{att}', ['GET', 'HEAD', 'PUT', 'DELETE']],
  ['/{db}/_design/{ddoc}/{att}', ['GET', 'PUT', 'DELETE']],
];

const ODD_DB = ['_users', '_replicator', 'Upper', 'a'.repeat(300), 'a%2Fb', '9999999999', '0', '1a', 'a$()+-_/b', 'nope'];
const ODD_DOC = ['_design', '_local', '_foo', '_design%2Fx', '_local%2Fx', 'a%2Fb', '%C3%A9t%C3%A9', '1', '007', 'x'.repeat(1100), ''];
const ODD_ATT = ['a%2Fb%2Fc', '_view', '_info', '_x', '%2E%2E', 'dir/sub/file.bin', ''];
const ODD_REVS = ['1-abc', '0-abc', '1-', 'x', '-1-a', `1-${'a'.repeat(65)}`, '99999999999-abc', '2-😀', '1-%00', '1-00000000000000000000000000000000'];
const ODD_CONTENT_TYPES = ['', 'x', 'text/plain', 'image/png', 'application/json', 'multipart/related; boundary=abc', 'multipart/mixed', 'application/octet-stream; charset=\u00e9', `a/${'b'.repeat(2000)}`, ';;;', 'text/plain; charset=utf-16'];
// Never empty: an empty timeout is the default one (60 s).
const SHORT_TIMEOUTS = ['0', '1', '10', '50', '-1', 'abc', '1.5', '%00'];
const FEEDS = ['normal', 'longpoll', 'continuous', 'eventsource', 'x', ''];
const WAITING_FEEDS = new Set(['longpoll', 'continuous', 'eventsource']);
const FLAGS = ['true', 'false', '1', 'yes', ''];

const b64 = (text: string | Buffer) => Buffer.from(text).toString('base64');

function segment(rng: Rng, known: string[], odd: string[]): string {
  if (known.length && rng.chance(0.65)) return encodeURIComponent(rng.pick(known));
  return rng.chance(0.5) ? rng.pick(odd) : rng.pick(EVIL_SEGMENTS);
}

function revValue(rng: Rng, s: CouchFuzzSetup): string {
  return s.revs.length && rng.chance(0.5) ? rng.pick(s.revs) : rng.pick(ODD_REVS);
}

function jsonish(rng: Rng, s: CouchFuzzSetup): string {
  return rng.pick([
    JSON.stringify(rng.pick(s.docIds.length ? s.docIds : ['x'])),
    JSON.stringify(s.revs.slice(0, 2)),
    '[1,null,{}]',
    '"unterminated',
    '[',
    deepText(200),
    'all',
    JSON.stringify(revValue(rng, s)),
  ]);
}

/** CouchDB's query parameters, valid and not; a waiting feed always gets a short timeout. */
function query(rng: Rng, s: CouchFuzzSetup): string {
  const parts: [string, string][] = [];
  const maybe = (p: number, name: string, value: () => string) => rng.chance(p) && parts.push([name, value()]);
  maybe(0.2, 'rev', () => revValue(rng, s));
  maybe(0.1, 'revs', () => rng.pick(FLAGS));
  maybe(0.1, 'open_revs', () => (rng.chance(0.3) ? 'all' : jsonish(rng, s)));
  maybe(0.05, 'latest', () => rng.pick(FLAGS));
  maybe(0.05, 'conflicts', () => rng.pick(FLAGS));
  maybe(0.05, 'deleted_conflicts', () => rng.pick(FLAGS));
  maybe(0.05, 'attachments', () => rng.pick(FLAGS));
  maybe(0.05, 'atts_since', () => jsonish(rng, s));
  maybe(0.1, 'since', () => rng.pick(['0', 'now', '3', '5-g1AAAA', '-1', 'x', '1e20', '99999999999999999', '0-', '']));
  maybe(0.1, 'limit', () => rng.pick(['0', '1', '2', '-1', 'x', '1e3', '99999999999999999999']));
  maybe(0.05, 'skip', () => rng.pick(['0', '1', '-1', 'x', '99999999999999999999']));
  const feed = rng.chance(0.25) ? rng.pick(FEEDS) : undefined;
  if (feed !== undefined) parts.push(['feed', feed]);
  maybe(0.1, 'heartbeat', () => rng.pick(['true', '1', '5', '0', '-1', 'x']));
  if (feed !== undefined && WAITING_FEEDS.has(feed)) parts.push(['timeout', rng.pick(SHORT_TIMEOUTS)]);
  else maybe(0.05, 'timeout', () => rng.pick(SHORT_TIMEOUTS));
  maybe(0.1, 'filter', () => rng.pick(['_doc_ids', '_selector', '_design', '_view', 'app/by_type', '', 'x']));
  maybe(0.1, 'doc_ids', () => jsonish(rng, s));
  maybe(0.05, 'selector', () => jsonish(rng, s));
  maybe(0.05, 'style', () => rng.pick(['all_docs', 'main_only', 'x']));
  maybe(0.1, 'include_docs', () => rng.pick(FLAGS));
  maybe(0.05, 'descending', () => rng.pick(FLAGS));
  for (const name of ['keys', 'key', 'startkey', 'endkey', 'start_key']) maybe(0.04, name, () => jsonish(rng, s));
  maybe(0.03, 'inclusive_end', () => rng.pick(FLAGS));
  maybe(0.03, 'new_edits', () => rng.pick(FLAGS));
  maybe(0.03, 'count', () => rng.pick(['1', '1000', '1001', '0', 'x']));
  if (rng.chance(0.05)) parts.push([rng.pick(['x', '%00', 'rev']), rng.pick(EVIL_QUERY)]);
  const enc = (v: string) => (v.includes('%') ? v : encodeURIComponent(v));
  return parts.length ? `?${parts.map(([k, v]) => `${k}=${enc(v)}`).join('&')}` : '';
}

function oddRevisions(rng: Rng, rev: string): unknown {
  const [gen, hash] = rev.split('-');
  return rng.pick<unknown>([
    { start: Number(gen), ids: [hash, 'b'.repeat(32)] },
    { start: Number(gen) + 5, ids: [hash] },
    { start: 0, ids: [hash] },
    { start: -1, ids: [] },
    { start: 1e20, ids: [hash] },
    { start: Number(gen), ids: 'abc' },
    { start: '1', ids: [hash] },
    { start: Number(gen), ids: [1, null, {}] },
    { start: Number(gen), ids: Array.from({ length: 1200 }, (_, i) => `${i}`.padStart(32, 'a')) },
    { start: 3, ids: ['😀', '', 'x'.repeat(100)] },
    null,
    [],
    { ids: [hash] },
  ]);
}

function attachmentsValue(rng: Rng): unknown {
  const name = rng.pick(['a.txt', 'dir/b.bin', '', '_x', 'x'.repeat(300)]);
  const att = rng.pick<unknown>([
    { content_type: 'text/plain', data: b64('hello') },
    { content_type: 'text/plain', data: 'not base64!' },
    { data: b64('x'), digest: 'md5-wrong' },
    { stub: true },
    { stub: true, revpos: -1 },
    { stub: 'yes', data: 1 },
    { content_type: 1, data: '' },
    { follows: true, length: 5 },
    null,
    'x',
  ]);
  return { [name]: att };
}

function docValue(rng: Rng, s: CouchFuzzSetup, newEditsFalse: boolean): unknown {
  const doc: Record<string, unknown> = { title: 't', content: 'c', n: rng.int(10) };
  if (rng.chance(0.8)) doc._id = rng.chance(0.7) && s.docIds.length ? rng.pick(s.docIds) : rng.pick([`new-${rng.int(50)}`, '_design/fz', '_local/x', '_bad', '', 1]);
  const rev = newEditsFalse ? `${1 + rng.int(4)}-${rng.int(1e6).toString(16).padStart(32, '0')}` : revValue(rng, s);
  if (newEditsFalse ? rng.chance(0.9) : rng.chance(0.5)) doc._rev = rev;
  if (newEditsFalse && rng.chance(0.7)) doc._revisions = oddRevisions(rng, rev);
  if (rng.chance(0.15)) doc._deleted = rng.pick([true, false, 'true', 1]);
  if (rng.chance(0.2)) doc._attachments = attachmentsValue(rng);
  if (rng.chance(0.05)) doc[rng.pick(['_foo', '_conflicts', '_revs_info'])] = 1;
  return rng.chance(0.15) ? mutate(rng, doc) : doc;
}

function bodyFor(rng: Rng, path: string, method: string, s: CouchFuzzSetup): string | Buffer | undefined {
  if (rng.chance(0.1)) return rng.pick(RAW_BODIES);
  if (path.endsWith('/_bulk_docs')) {
    const newEdits = rng.pick<unknown>([false, false, true, undefined, 'false', 0]);
    const docs = Array.from({ length: rng.int(4) }, () => docValue(rng, s, newEdits === false));
    return JSON.stringify(rng.chance(0.1) ? mutate(rng, { docs, new_edits: newEdits }) : { docs, new_edits: newEdits });
  }
  if (path.endsWith('/_bulk_get')) {
    const item = () =>
      rng.pick<unknown>([
        { id: rng.pick(s.docIds.length ? s.docIds : ['x']) },
        { id: rng.pick(s.docIds.length ? s.docIds : ['x']), rev: revValue(rng, s) },
        { id: rng.pick(s.docIds.length ? s.docIds : ['x']), open_revs: rng.pick<unknown>(['all', s.revs, [1], 'x']) },
        { id: 'missing', atts_since: s.revs },
        { rev: '1-a' },
        null,
        evilValue(rng),
      ]);
    return JSON.stringify({ docs: Array.from({ length: rng.int(4) }, item) });
  }
  if (path.endsWith('/_revs_diff') || path.endsWith('/_missing_revs') || path.endsWith('/_purge')) {
    const out: Record<string, unknown> = {};
    for (let i = rng.int(4); i > 0; i--) out[rng.pick([...s.docIds, 'new', '_local/x', ''])] = rng.chance(0.8) ? [revValue(rng, s), revValue(rng, s)] : evilValue(rng);
    return JSON.stringify(out);
  }
  if (path.endsWith('/_dbs_info')) return JSON.stringify({ keys: rng.chance(0.7) ? [...s.dbs, 'nope', 'Bad', ''] : evilValue(rng) });
  if (path.endsWith('/_all_docs') || path.endsWith('/_local_docs')) return JSON.stringify({ keys: rng.chance(0.8) ? [...s.docIds.slice(0, 2), 'missing', 1, null] : evilValue(rng), limit: rng.pick<unknown>([1, -1, 'x', undefined]), include_docs: rng.chance(0.5) });
  if (path.endsWith('/_changes')) {
    return JSON.stringify(rng.pick<unknown>([{ doc_ids: s.docIds }, { doc_ids: [1, 2] }, { selector: { title: 't' } }, { selector: { $or: [{ n: { $gt: 1 } }, { title: { $regex: '(a+)+$' } }] } }, { selector: { n: { $bogus: 1 } } }, { selector: { $and: [{ _id: { $gt: '' } }, { n: { $mod: 'x' } }] } }, { selector: 'x' }, { since: 'x' }, {}]));
  }
  if (path.endsWith('/_find') || path.endsWith('/_explain')) {
    const selector = rng.pick<unknown>([{ n: { $gt: 1 } }, { title: 't', n: { $in: [1, 2, 'x'] } }, { $or: [{ n: 1 }, { 'a.b': { $exists: true } }] }, { n: { $bogus: 1 } }, {}, 'x', null, evilValue(rng)]);
    const query: Record<string, unknown> = { selector };
    if (rng.chance(0.4)) query.sort = rng.pick<unknown>([['n'], [{ n: 'desc' }], [{ n: 'asc' }, { title: 'desc' }], [{ n: 'up' }], 'n', [{}], [1]]);
    if (rng.chance(0.4)) query.fields = rng.pick<unknown>([['_id', 'n'], ['a.b.c'], [1], 'x', []]);
    if (rng.chance(0.4)) query.limit = rng.pick<unknown>([0, 1, 25, -1, 'x', 1e300, 2 ** 53]);
    if (rng.chance(0.3)) query.skip = rng.pick<unknown>([0, 3, -1, 'x']);
    if (rng.chance(0.3)) query.bookmark = rng.pick<unknown>(['nil', 'eyJvIjoxfQ', 'eyJvIjotMX0', '!!', 1, null]);
    if (rng.chance(0.2)) query.use_index = rng.pick<unknown>(['fz', ['fz', 'n'], ['a', 'b', 'c'], 1]);
    if (rng.chance(0.2)) query.conflicts = rng.pick<unknown>([true, 'yes']);
    if (rng.chance(0.2)) query.execution_stats = true;
    if (rng.chance(0.1)) delete query.selector;
    return JSON.stringify(rng.chance(0.15) ? mutate(rng, query) : query);
  }
  if (path.endsWith('/_index')) {
    const index = rng.pick<unknown>([{ fields: ['n'] }, { fields: [{ n: 'desc' }, 'title'] }, { fields: [] }, { fields: 'n' }, { fields: ['n'], partial_filter_selector: { title: 't' } }, { fields: ['n'], partial_filter_selector: { n: { $bogus: 1 } } }, null]);
    const body: Record<string, unknown> = { index, ...(rng.chance(0.5) && { ddoc: rng.pick<unknown>(['fz', '_design/fz', '', 1, 'js']) }), ...(rng.chance(0.5) && { name: rng.pick<unknown>(['n', '', 2]) }) };
    if (rng.chance(0.1)) body.type = rng.pick<unknown>(['text', 'json', 1]);
    return JSON.stringify(rng.chance(0.15) ? mutate(rng, body) : body);
  }
  if (path.endsWith('/_revs_limit')) return rng.pick(['1', '1000', '0', '-1', '"x"', '1.5', '99999999999999999999']);
  if (path.includes('{att}') && method === 'PUT') return rng.chance(0.5) ? Buffer.from('attachment bytes') : Buffer.alloc(rng.int(3) * 70_000, 7);
  if (method === 'PUT' && rng.chance(0.2)) return multipartDoc(rng, s);
  if (method === 'PUT' || method === 'POST') return JSON.stringify(docValue(rng, s, false));
  return undefined;
}

/** A document with attachments that follow, as CouchDB's replicator PUTs it (boundary MP_BOUNDARY), often broken. */
const MP_BOUNDARY = 'fuzzb0undary';
function multipartDoc(rng: Rng, s: CouchFuzzSetup): Buffer {
  const names = Array.from({ length: rng.int(3) }, (_, i) => rng.pick([`f${i}`, ...ODD_ATT]));
  const att = () => rng.pick<unknown>([{ follows: true, content_type: 'text/plain', length: 5 }, { follows: true, encoding: 'gzip' }, { follows: true, length: -1 }, { follows: 'yes' }, { stub: true }, evilValue(rng)]);
  const doc = { ...(docValue(rng, s, rng.chance(0.5)) as object), _attachments: Object.fromEntries(names.map((n) => [n, att()])) };
  const chunks = [`--${MP_BOUNDARY}\r\nContent-Type: application/json\r\n\r\n${rng.chance(0.9) ? JSON.stringify(doc) : rng.pick(RAW_BODIES)}`];
  for (const name of names) {
    if (rng.chance(0.1)) continue;
    chunks.push(`\r\n--${MP_BOUNDARY}\r\nContent-Disposition: attachment; filename="${rng.chance(0.8) ? name : 'other'}"\r\n\r\n${rng.pick(['hello', '', '\x1f\x8b\x08garbage', 'x'.repeat(1000)])}`);
  }
  if (rng.chance(0.9)) chunks.push(`\r\n--${MP_BOUNDARY}--`);
  const body = Buffer.from(chunks.join(''));
  return rng.chance(0.15) ? body.subarray(0, rng.int(body.length)) : body;
}

function authHeaders(rng: Rng, s: CouchFuzzSetup): Record<string, string> {
  const key = rng.pick(s.keys);
  const roll = rng.next();
  if (roll < 0.45) return { 'x-api-key': key };
  if (roll < 0.8) return { authorization: `Basic ${b64(`replicator:${key}`)}` };
  return {
    authorization: rng.pick([
      'Basic',
      'Basic ',
      'Basic !!!!',
      `Basic ${b64('no-colon')}`,
      `Basic ${b64(':')}`,
      `Basic ${b64('user:')}`,
      `Basic ${b64('user:wrong')}`,
      `Basic ${b64(`user:${key}\u0000`)}`,
      `Basic ${b64(Buffer.from([0xff, 0x3a, 0xfe, 0xfd]))}`,
      `Basic ${'QUFB'.repeat(5_000)}`,
      `basic ${b64(`u:${key}`)}`,
      `Basic ${b64(`u:${key}`)} extra`,
      'Bearer x.y.z',
      `Digest username="u"`,
      '',
    ]),
  };
}

function headersFor(rng: Rng, s: CouchFuzzSetup, path: string, method: string, hasBody: boolean): Record<string, string> {
  const headers = authHeaders(rng, s);
  if (hasBody) headers['content-type'] = path.includes('{att}') ? rng.pick(ODD_CONTENT_TYPES) : rng.chance(0.85) ? 'application/json' : rng.pick(ODD_CONTENT_TYPES);
  if (hasBody && method === 'PUT' && !path.includes('{att}') && rng.chance(0.2)) headers['content-type'] = `multipart/related; boundary="${MP_BOUNDARY}"`;
  if (rng.chance(0.1)) headers['if-match'] = rng.pick(['"1-abc"', revValue(rng, s), '*', 'x'.repeat(3000), '""']);
  if (rng.chance(0.05)) headers.origin = rng.pick(['https://app.example', 'null', 'x'.repeat(500)]);
  if (rng.chance(0.1)) headers.accept = rng.pick(['multipart/mixed', 'multipart/related', 'application/json', 'text/event-stream', '*/*']);
  if (rng.chance(method === 'COPY' ? 0.8 : 0.03)) headers.destination = rng.pick(['copy-1', '', '_local/x', '_design/c', 'a%2Fb', '%zz', `copy-1?rev=${revValue(rng, s)}`, 'copy-1?rev=', '?rev=1-a', 'x'.repeat(1100)]);
  if (method === 'OPTIONS') headers['access-control-request-headers'] = 'authorization, content-type';
  return headers;
}

/** False when dot segments (`..`, `%2e%2e`) take the URL out of the endpoint: another API answers it. */
function namesEndpoint(url: string): boolean {
  const path = new URL(url, 'http://host').pathname;
  return path === COUCH || path.startsWith(`${COUCH}/`);
}

function isCouchError(body: string): boolean {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; reason?: unknown };
    return typeof parsed.error === 'string' && typeof parsed.reason === 'string';
  } catch {
    return false;
  }
}

/** Sends `runs` generated requests to the CouchDB endpoint; reports every 5xx and every 4xx not in CouchDB's shape. */
export async function fuzzCouch(target: CouchFuzzTarget, options: { runs: number; seed: number; resetEvery?: number }): Promise<FuzzReport> {
  const rng = prng(options.seed);
  const report: FuzzReport = { requests: 0, failures: [], byStatus: {} };
  let s = await target.setup();
  for (let i = 0; i < options.runs; i++) {
    if (i > 0 && i % (options.resetEvery ?? 150) === 0) s = await target.setup();
    const [template, methods] = rng.pick(ROUTES);
    const method = rng.chance(0.03) ? rng.pick(['OPTIONS', 'PATCH', 'COPY', 'HEAD']) : rng.pick(methods);
    const path = template
      .replace('{db}', () => segment(rng, s.dbs, ODD_DB))
      .replace('{doc}', () => segment(rng, s.docIds, ODD_DOC))
      .replace('{ddoc}', () => segment(rng, s.designIds.map((d) => d.slice('_design/'.length)), ODD_DOC))
      .replace('{local}', () => segment(rng, s.localIds, ODD_DOC))
      .replace('{att}', () => (s.attachments.length && rng.chance(0.6) ? rng.pick(s.attachments) : rng.pick([...ODD_ATT, ...EVIL_SEGMENTS])));
    const hasBody = ['PUT', 'POST'].includes(method) || rng.chance(0.03);
    const request: FuzzRequest = { method, url: COUCH + path + query(rng, s), headers: headersFor(rng, s, template, method, hasBody) };
    if (hasBody) request.payload = bodyFor(rng, template, method, s);
    const badShape = (res: { statusCode: number; body: string }) =>
      res.statusCode >= 400 && res.statusCode < 500 && method !== 'HEAD' && namesEndpoint(request.url) && !isCouchError(res.body);
    await exchange(target, request, report, (res) => res.statusCode >= 500 || badShape(res), true);
  }
  return report;
}
