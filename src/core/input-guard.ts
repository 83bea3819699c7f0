import { isUtf8 } from 'node:buffer';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBodyParser, FastifyRequest } from 'fastify';
import { AppError, badRequest, notFound, validationError } from './errors.js';

// One guard every request passes, on all three APIs and both databases, before anything recursive runs or
// anything reaches SQL:
// - JSON bodies nest at most MAX_JSON_DEPTH levels and hold at most MAX_JSON_VALUES values (checked on the text,
//   without recursion, before parsing);
// - no string a client sends holds U+0000, which PostgreSQL text cannot store and SQLite would keep: not in
//   body values or keys, not in query names or values, not in a path segment (404: no such thing exists);
// - no body string holds an unpaired UTF-16 surrogate, and no body number overflows to Infinity (findUnstorable).

/** How deep JSON bodies may nest (objects and arrays together). */
export const MAX_JSON_DEPTH = 64;

const NUL = '\u0000';

/**
 * How many values (objects, arrays, members, elements) a JSON body may hold. Parsed, each costs tens of bytes of
 * heap and the parse blocks the event loop: 32 MiB of `{},` parse into 11 million objects, 714 MB, in seconds, and
 * the CouchDB endpoint takes bodies of up to 256 MiB (inline attachments). A million is far more than any batch
 * a client sends (PouchDB pushes 100 documents at a time, CouchDB's replicator 500).
 */
export const MAX_JSON_VALUES = 1_000_000;

/** What is wrong with the shape of a JSON text (too deep, too many values), or undefined. Linear, no parse. */
export function jsonShapeProblem(text: string, depthLimit = MAX_JSON_DEPTH, valueLimit = MAX_JSON_VALUES): 'depth' | 'values' | undefined {
  if (text.length <= depthLimit) return undefined;
  let depth = 0;
  let values = 1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > depthLimit) return 'depth';
      if (++values > valueLimit) return 'values';
    } else if (c === 0x7d || c === 0x5d) depth--;
    else if (c === 0x2c && ++values > valueLimit) return 'values';
  }
  return undefined;
}

/** True when the JSON text opens more than `limit` objects/arrays at once. Linear, no recursion, no parse. */
export function jsonDepthExceeds(text: string, limit = MAX_JSON_DEPTH): boolean {
  return jsonShapeProblem(text, limit, Infinity) === 'depth';
}

/** The error for a JSON text whose shape the server refuses to parse, or undefined. */
export function jsonShapeError(text: string): AppError | undefined {
  const problem = jsonShapeProblem(text);
  if (problem === 'depth') return tooDeep();
  if (problem === 'values') return tooManyValues();
  return undefined;
}

/** True when a parsed JSON value holds more than `limit` levels of objects/arrays (iterative). */
export function valueDepthExceeds(value: unknown, limit = MAX_JSON_DEPTH): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (item === null || typeof item !== 'object') continue;
    if (depth + 1 > limit) return true;
    for (const child of Object.values(item)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}

export function tooManyValues(): AppError {
  return new AppError(413, 'payload_too_large', `The JSON body holds more than ${MAX_JSON_VALUES.toLocaleString('en')} values; send it in smaller batches.`);
}

export function tooDeep(): AppError {
  return new AppError(400, 'invalid_json', `JSON nesting is too deep: at most ${MAX_JSON_DEPTH} levels of objects and arrays.`);
}

function shown(key: string): string {
  return key.replaceAll(NUL, '\\u0000');
}

/** What a value holds that no text column stores faithfully on both databases (see `findUnstorable`). */
export type Unstorable = 'nul' | 'surrogate' | 'infinite';

/** Why a string cannot be stored as it is, or undefined. */
function textProblem(text: string): Unstorable | undefined {
  if (text.includes(NUL)) return 'nul';
  if (!text.isWellFormed()) return 'surrogate';
  return undefined;
}

/**
 * The first place (path `metadata.a[2]`, or `''` for the value itself) where a parsed JSON value holds something
 * the databases cannot keep as sent, or undefined. Iterative, so that it is safe on any depth:
 * - a NUL in a string or key: PostgreSQL text cannot store it, SQLite would keep it;
 * - an unpaired UTF-16 surrogate (`"\ud800"`), which is not Unicode text: SQLite stores invalid UTF-8 and answers
 *   three U+FFFD, PostgreSQL one (two such names then collide on one database and not on the other);
 * - a number beyond ±1.8e308 (`1e400`), which JSON.parse makes Infinity and JSON.stringify then writes as null.
 */
export function findUnstorable(value: unknown): { path: string; problem: Unstorable } | undefined {
  const stack: [unknown, string][] = [[value, '']];
  while (stack.length > 0) {
    const [item, path] = stack.pop()!;
    if (typeof item === 'string') {
      const problem = textProblem(item);
      if (problem) return { path, problem };
    } else if (typeof item === 'number') {
      if (!Number.isFinite(item)) return { path, problem: 'infinite' };
    } else if (Array.isArray(item)) {
      for (let i = item.length - 1; i >= 0; i--) stack.push([item[i], `${path}[${i}]`]);
    } else if (item !== null && typeof item === 'object') {
      const entries = Object.entries(item);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i];
        const at = path ? `${path}.${shown(key)}` : shown(key);
        const problem = textProblem(key);
        if (problem) return { path: at, problem };
        stack.push([child, at]);
      }
    }
  }
  return undefined;
}

/**
 * False when a JSON text cannot hold any of it (one linear scan, no walk): a NUL or a lone surrogate can only
 * be written as a \u escape (the text is decoded UTF-8, in which invalid bytes become U+FFFD), and a number can
 * only overflow with an exponent of three digits or hundreds of digits.
 */
function mayHoldUnstorable(text: string): boolean {
  return text.includes('\\u0000') || MAYBE_UNSTORABLE.test(text);
}
const MAYBE_UNSTORABLE = /\\u[dD][89a-fA-F]|\d[eE]\+?\d{3}|\d{300}/;

/** The 400 for what `findUnstorable` found. */
export function unstorableInBody({ path, problem }: { path: string; problem: Unstorable }): AppError {
  const field = `Field ${path || 'body'}`;
  if (problem === 'nul') return validationError(`${field} contains a NUL character, which text fields cannot hold.`);
  if (problem === 'surrogate') return validationError(`${field} contains an unpaired UTF-16 surrogate (a \\ud800–\\udfff escape without its pair), which is not valid Unicode text.`);
  return validationError(`${field} is a number too large to represent (beyond ±1.8e308).`);
}

/** The unstorable-value check of a parsed JSON text, or undefined (skips the walk when the text cannot hold any). */
export function unstorableInJson(text: string, value: unknown): AppError | undefined {
  if (!mayHoldUnstorable(text)) return undefined;
  const found = findUnstorable(value);
  return found && unstorableInBody(found);
}

/** Shape (depth, value count) and unstorable-value checks of a JSON text and its parsed value: the error to answer, or undefined. */
export function checkJson(text: string, parse: (text: string) => unknown): { value?: unknown; error?: Error } {
  const shape = jsonShapeError(text);
  if (shape) return { error: shape };
  let value: unknown;
  try {
    value = parse(text);
  } catch (err) {
    return { error: err as Error };
  }
  const unstorable = unstorableInJson(text, value);
  return unstorable ? { error: unstorable } : { value };
}

/**
 * Fastify's parser refuses `__proto__` and `constructor.prototype` keys (prototype pollution) and words it as
 * malformed JSON; a valid JSON text refused for such a key gets a 400 that says so instead.
 */
function forbiddenKeyError(text: string): AppError | undefined {
  if (!text.includes('__proto__') && !text.includes('prototype')) return undefined;
  try {
    JSON.parse(text);
  } catch {
    return undefined; // malformed as well: Fastify's answer stands
  }
  return validationError('The body holds a "__proto__" key (or "constructor" with "prototype"), which is refused.');
}

/** Wraps a string JSON body parser (Fastify's own, or a family's) with the shape and unstorable-value checks. */
/**
 * guardedJsonParser for bodies read as bytes (`parseAs: 'buffer'`): bytes that are not UTF-8 are a 400, where
 * decoding them as text would have put U+FFFD in their place and stored that (JSON text is UTF-8: RFC 8259 §8.1).
 * An empty body on a method that needs none is no body.
 */
export function utf8JsonParser(base: FastifyBodyParser<string>): FastifyBodyParser<Buffer> {
  const parse = guardedJsonParser(base);
  return function (this: unknown, request: FastifyRequest, body: Buffer, done: (err: Error | null, body?: unknown) => void) {
    // Clients that set Content-Type: application/json on every request send it on a GET or DELETE without a body.
    if (body.length === 0 && BODILESS.has(request.method)) return done(null, undefined);
    const text = utf8Text(body);
    if (text === undefined) return done(notUtf8());
    (parse as (req: FastifyRequest, body: string, done: (err: Error | null, value?: unknown) => void) => void).call(this, request, text, done);
  } as FastifyBodyParser<Buffer>;
}

const BODILESS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS']);

/** The body as text, or undefined when its bytes are not UTF-8 (decoding them would put U+FFFD in their place). */
export function utf8Text(body: Buffer): string | undefined {
  return isUtf8(body) ? body.toString('utf8') : undefined;
}

export const notUtf8 = () => new AppError(400, 'invalid_json', 'The body is not valid UTF-8: JSON text must be encoded in UTF-8.');

export function guardedJsonParser(base: FastifyBodyParser<string>): FastifyBodyParser<string> {
  return function (this: unknown, request: FastifyRequest, body: string, done: (err: Error | null, body?: unknown) => void) {
    const text = typeof body === 'string' ? body : String(body);
    const shape = jsonShapeError(text);
    if (shape) return done(shape);
    (base as (req: FastifyRequest, body: string, done: (err: Error | null, value?: unknown) => void) => void).call(
      this,
      request,
      body,
      (err, value) => {
        if (err) return done(forbiddenKeyError(text) ?? err);
        done(unstorableInJson(text, value) ?? null, value);
      },
    );
  } as FastifyBodyParser<string>;
}

/**
 * The error for a URL carrying a NUL (`%00`): in the path, 404 (no such thing can exist), or 400 for a PUT,
 * whose path names what it creates; in the query, 400 naming the parameter. Undefined for the usual URL
 * (one `includes` on the raw text).
 */
export function nulInUrl(method: string, url: string): AppError | undefined {
  if (!url.includes('%00')) return undefined;
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (path.includes('%00')) {
    return method === 'PUT'
      ? new AppError(400, 'invalid_path', 'A path segment contains a NUL character, which names cannot hold.')
      : notFound('No such path: a path segment contains a NUL character.');
  }
  const params = new URLSearchParams(url.slice(q + 1));
  for (const [name, value] of params) {
    if (name.includes(NUL)) return badRequest(`A query parameter name (${shown(name)}) contains a NUL character.`);
    if (value.includes(NUL)) return badRequest(`Query parameter ${name} contains a NUL character.`);
  }
  return undefined;
}

/** For values that bypass the body parser (JWT claims, header values): true when the text holds a NUL or a lone surrogate. */
export function unstorableText(text: string): boolean {
  return textProblem(text) !== undefined;
}

/**
 * Answers a request Node's parser refused (headers too large: 431; timeout: 408; else 400) as Fastify does,
 * but with `Connection: close`: the socket is closed after the answer, and a keep-alive client must know
 * not to send its next request on it.
 */
export function closingClientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const message =
    status === 431 ? 'Request headers are too large.' : status === 408 ? 'The request took too long to arrive.' : 'Malformed HTTP request.';
  const body = JSON.stringify({ error: status === 431 ? 'headers_too_large' : status === 408 ? 'request_timeout' : 'bad_request', message });
  if (socket.writable) {
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\n\r\n${body}`,
    );
  }
  // A lingering close: destroying at once could reset the connection before the client has read the answer.
  setTimeout(() => socket.destroy(), 1000).unref();
}
