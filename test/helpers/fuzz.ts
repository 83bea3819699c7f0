// A bounded, seeded fuzzer: walks the operations of /openapi.json (and deeper Dreamspace paths than it
// lists) and sends malformed requests: wrong types, NULs, huge strings, deep nesting, bad JSON, odd path
// segments and headers. Any 5xx is a failure. No test-runner imports: bench/fuzz.ts uses it too.

export interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
}

export interface FuzzSetup {
  /** Valid path parameter values, by `<api>:<param>` (api: lake, script, space). */
  known: Record<string, string[]>;
  /** Valid auth headers per API. */
  auth: Record<Api, Record<string, string>>;
}

export interface FuzzTarget {
  openapi: OpenApi;
  send(request: FuzzRequest): Promise<{ statusCode: number; body: string }>;
  /** (Re)creates the data the valid parameter values name; called at the start and now and then. */
  setup(): Promise<FuzzSetup>;
}

export interface FuzzReport {
  requests: number;
  failures: { request: string; status: number; body: string }[];
  byStatus: Record<number, number>;
}

type Answer = { statusCode: number; body: string };

/**
 * One fuzz request: sent, its status counted, and recorded as a failure when `failed` says so (with its headers when
 * `withHeaders`). A request the HTTP layer itself refuses to send (e.g. a header value) is skipped.
 */
export async function exchange(
  target: { send(request: FuzzRequest): Promise<Answer> },
  request: FuzzRequest,
  report: FuzzReport,
  failed: (res: Answer) => boolean,
  withHeaders = false,
): Promise<void> {
  let res: Answer;
  try {
    res = await target.send(request);
  } catch {
    return;
  }
  report.requests++;
  report.byStatus[res.statusCode] = (report.byStatus[res.statusCode] ?? 0) + 1;
  if (!failed(res)) return;
  const payload = request.payload === undefined ? '' : ` ${String(request.payload).slice(0, 300)}`;
  const headers = withHeaders ? ` ${JSON.stringify(request.headers).slice(0, 200)}` : '';
  report.failures.push({ request: `${request.method} ${request.url.slice(0, 300)}${headers}${payload}`, status: res.statusCode, body: res.body.slice(0, 300) });
}

type Api = 'lake' | 'script' | 'space';
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Schema = any;
interface OpenApi {
  paths: Record<string, Record<string, { parameters?: Parameter[]; requestBody?: { content?: Record<string, { schema?: Schema }> } }>>;
}
interface Parameter {
  name: string;
  in: string;
  schema?: Schema;
}

/** mulberry32: small, fast, seeded. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    chance: (p: number) => next() < p,
    pick<T>(items: readonly T[]): T {
      return items[Math.floor(next() * items.length)];
    },
  };
}
export type Rng = ReturnType<typeof prng>;

export const deepText = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
const deepArray = (n: number) => '['.repeat(n) + ']'.repeat(n);

export const EVIL_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  'x'.repeat(100_000),
  'é'.repeat(3_000),
  '😀'.repeat(1_000),
  '\uD800',
  '../../etc/passwd',
  '%00',
  "'; drop table users; --",
  '__proto__',
  'constructor',
  '-1',
  '1e309',
  '2025-13-45T99:99:99Z',
  'null',
  '\r\n',
  'A'.repeat(300),
];
const EVIL_NUMBERS = [-1, 0, 1.5, -0.5, 1e308, -1e308, 2 ** 53 + 2, -(2 ** 63), 2 ** 63, 4294967296];
const EVIL_VALUES: unknown[] = [null, true, false, [], {}, [[[]]], { a: { b: { c: 'd' } } }, ['\u0000'], { '\u0000': 1 }, { 'k\u0000': 'v' }];

export const RAW_BODIES: (string | Buffer)[] = [
  '{',
  '{"a":',
  'null',
  '[]',
  '"x"',
  '1',
  'true',
  '{}',
  '{"__proto__":{"polluted":1}}',
  '{"constructor":{"prototype":{"polluted":1}}}',
  deepText(5_000),
  `{"name":"x","metadata":${deepText(5_000)}}`,
  `{"title":"x","content":${deepText(5_000)}}`,
  `{"twitch_id":"1","name":"x","preferences":${deepText(5_000)}}`,
  deepArray(100_000),
  '{"a":"\\u0000"}',
  '{"\\u0000":1}',
  Buffer.from([0xff, 0xfe, 0x00, 0x7b]),
  '{"name":"x"}'.repeat(3),
  '\u0000',
];

export const EVIL_SEGMENTS = [
  '%00',
  'a%00b',
  'x'.repeat(5_000),
  '..',
  '%2e%2e',
  '%ff',
  '-1',
  '0',
  '99999999999999999999',
  '1e3',
  '%20',
  '%C3%A9',
  encodeURIComponent("'; drop table x; --"),
  '__proto__',
  'constructor',
  '%2F',
  encodeURIComponent('é'.repeat(2_000)),
];

export const EVIL_QUERY = ['%00', 'a%00b', 'x'.repeat(5_000), '-1', '0', '1.5', '1e400', 'abc', '', '%ff', '99999999999999999999', encodeURIComponent('é'.repeat(2_000))];

const CONTENT_TYPES = ['application/json', 'application/json; charset=utf-8', 'text/plain', 'application/merge-patch+json', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream'];

const DEEP_SPACE_PATHS = [
  '/dreamspace/events/{id}/user/specimen/owner',
  '/dreamspace/events/{id}/user/events',
  '/dreamspace/stamps/{id}/document/stamps',
  '/dreamspace/users/{id}/specimens/{id}/owner/transactions',
  '/dreamspace/transactions/{id}/user/specimen',
  '/dreamspace/documents/{id}/stamps/{id}/document/stamps/{id}',
];

function apiOf(path: string): Api {
  return path.startsWith('/dreamscript') ? 'script' : path.startsWith('/dreamspace') ? 'space' : 'lake';
}

/** A value that fits `schema` (roughly), depth-limited. */
function generate(rng: Rng, schema: Schema, depth = 0): unknown {
  if (!schema || depth > 6) return null;
  if (schema.const !== undefined) return schema.const;
  if (Array.isArray(schema.enum)) return rng.pick(schema.enum);
  const variants = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(variants)) return generate(rng, rng.pick(variants), depth + 1);
  if (Array.isArray(schema.allOf)) return Object.assign({}, ...schema.allOf.map((s: Schema) => generate(rng, s, depth + 1)));
  const type = Array.isArray(schema.type) ? rng.pick(schema.type) : schema.type;
  switch (type) {
    case 'string': {
      if (schema.format === 'date-time' || /ISO 8601/.test(String(schema.description))) return '2025-06-08T20:12:00+10:00';
      if (schema.pattern && /\[a-z0-9\]/.test(schema.pattern)) return `s${rng.int(1000)}`;
      const min = schema.minLength ?? 0;
      return 'v'.repeat(Math.max(min, 1 + rng.int(8)));
    }
    case 'integer':
      return (schema.minimum ?? 0) + rng.int(5);
    case 'number':
      return rng.next() * 10;
    case 'boolean':
      return rng.chance(0.5);
    case 'null':
      return null;
    case 'array':
      return Array.from({ length: rng.int(3) }, () => generate(rng, schema.items, depth + 1));
    case 'object': {
      const out: Record<string, unknown> = {};
      const required: string[] = schema.required ?? [];
      for (const [key, prop] of Object.entries(schema.properties ?? {})) {
        if (required.includes(key) || rng.chance(0.5)) out[key] = generate(rng, prop, depth + 1);
      }
      return out;
    }
    default:
      return rng.pick(['x', 1, null, true]);
  }
}

export function evilValue(rng: Rng): unknown {
  const kind = rng.int(4);
  if (kind === 0) return rng.pick(EVIL_STRINGS);
  if (kind === 1) return rng.pick(EVIL_NUMBERS);
  if (kind === 2) return rng.pick(EVIL_VALUES);
  return JSON.parse(deepText(70 + rng.int(100))) as unknown;
}

/** Replaces one field (at any level of objects) with something evil, or adds an unknown one. */
export function mutate(rng: Rng, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || rng.chance(0.1)) return evilValue(rng);
  const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<string, unknown>;
  const keys = Object.keys(copy);
  // defineProperty, not assignment: `copy.__proto__ = …` would change the prototype, not add a field.
  const set = (key: string, v: unknown) => Object.defineProperty(copy, key, { value: v, enumerable: true, writable: true, configurable: true });
  if (keys.length === 0 || rng.chance(0.15)) {
    set(rng.pick(['extra', '\u0000', 'x'.repeat(1000), '__proto__', 'metadata']), evilValue(rng));
    return copy;
  }
  const key = rng.pick(keys);
  set(key, rng.chance(0.3) ? mutate(rng, copy[key]) : evilValue(rng));
  return copy;
}

function bodyFor(rng: Rng, schema: Schema | undefined): string | Buffer | undefined {
  const roll = rng.next();
  if (roll < 0.15) return rng.pick(RAW_BODIES);
  const valid = generate(rng, schema ?? { type: 'object', properties: {} });
  if (roll < 0.3) return JSON.stringify(valid);
  let mutated = mutate(rng, valid);
  if (rng.chance(0.3)) mutated = mutate(rng, mutated);
  return JSON.stringify(mutated);
}

function segmentFor(rng: Rng, api: Api, name: string, known: Record<string, string[]>): string {
  const valid = known[`${api}:${name}`];
  if (valid && valid.length > 0 && rng.chance(0.7)) return encodeURIComponent(rng.pick(valid)).replace(/%2F/g, '/');
  return rng.pick(EVIL_SEGMENTS);
}

function queryFor(rng: Rng, params: Parameter[]): string {
  const parts: string[] = [];
  for (const p of params) {
    if (!rng.chance(0.5)) continue;
    const value = rng.chance(0.5) ? String(generate(rng, p.schema)) : rng.pick(EVIL_QUERY);
    parts.push(`${encodeURIComponent(p.name)}=${value.startsWith('%') || value.includes('%') ? value : encodeURIComponent(value)}`);
    if (rng.chance(0.1)) parts.push(`${encodeURIComponent(p.name)}=${encodeURIComponent('again')}`);
  }
  if (rng.chance(0.1)) parts.push(`${rng.pick(['x', '%00', 'limit', 'page', 'cursor', 'since', 'feed'])}=${rng.pick(EVIL_QUERY)}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

function headersFor(rng: Rng, api: Api, setup: FuzzSetup, hasBody: boolean): Record<string, string> {
  const headers: Record<string, string> = { ...setup.auth[api] };
  if (rng.chance(0.05)) {
    const [name] = Object.keys(headers);
    headers[name] = rng.pick(['', 'Bearer', 'Bearer x.y.z', `Bearer ${'a'.repeat(5000)}`, 'x'.repeat(300), 'SecureToken']);
  }
  if (hasBody) headers['content-type'] = rng.chance(0.8) ? 'application/json' : rng.pick(CONTENT_TYPES);
  if (rng.chance(0.1)) headers['if-match'] = rng.pick(['*', '"1-abc"', 'x'.repeat(2000), '"1-00000000000000000000000000000000"', 'W/"x"']);
  if (rng.chance(0.05)) headers.range = rng.pick(['bytes=0-0', 'bytes=-5', 'bytes=9999999999-', 'bytes=5-1', 'items=1-2', 'bytes=0-1,2-3']);
  if (rng.chance(0.05)) headers.prefer = rng.pick(['return=minimal', 'x'.repeat(500), 'return=']);
  if (rng.chance(0.05)) headers['if-none-match'] = rng.pick(['*', '"abc"', 'x'.repeat(500)]);
  return headers;
}

interface Operation {
  path: string;
  method: string;
  params: Parameter[];
  body?: Schema;
}

function operationsOf(openapi: OpenApi): Operation[] {
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(openapi.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      if (!['get', 'post', 'put', 'patch', 'delete', 'head'].includes(method)) continue;
      const content = op.requestBody?.content ?? {};
      const body = (content['application/json'] ?? Object.values(content)[0])?.schema;
      ops.push({ path, method: method.toUpperCase(), params: op.parameters ?? [], body });
    }
  }
  // Dreamspace walks any chain of relations; the OpenAPI document lists one level of nesting.
  for (const path of DEEP_SPACE_PATHS) {
    for (const method of ['GET', 'POST', 'PATCH', 'PUT', 'DELETE']) ops.push({ path, method, params: [] });
  }
  return ops;
}

/** Sends `runs` generated requests; reports every 5xx (and requests that could not be sent are skipped). */
export async function fuzz(target: FuzzTarget, options: { runs: number; seed: number; resetEvery?: number }): Promise<FuzzReport> {
  const rng = prng(options.seed);
  const ops = operationsOf(target.openapi);
  const report: FuzzReport = { requests: 0, failures: [], byStatus: {} };
  let setup = await target.setup();
  for (let i = 0; i < options.runs; i++) {
    if (i > 0 && i % (options.resetEvery ?? 150) === 0) setup = await target.setup();
    const op = rng.pick(ops);
    const api = apiOf(op.path);
    const url =
      op.path.replace(/\{([^}]+)\}/g, (_m, name: string) => segmentFor(rng, api, name, setup.known)) +
      queryFor(rng, op.params.filter((p) => p.in === 'query'));
    const hasBody = ['POST', 'PUT', 'PATCH'].includes(op.method) || rng.chance(0.05);
    const request: FuzzRequest = { method: op.method, url, headers: headersFor(rng, api, setup, hasBody) };
    if (hasBody) request.payload = bodyFor(rng, op.body);
    await exchange(target, request, report, (res) => res.statusCode >= 500);
  }
  return report;
}
