import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBodyParser, FastifyRequest } from 'fastify';
import { AppError, badRequest, notFound, validationError } from './errors.js';

// One guard every request passes, on all three APIs and both databases, before anything recursive runs or
// anything reaches SQL:
// - JSON bodies nest at most MAX_JSON_DEPTH levels (checked on the text, without recursion, before parsing);
// - no string a client sends holds U+0000, which PostgreSQL text cannot store and SQLite would keep: not in
//   body values or keys, not in query names or values, not in a path segment (404: no such thing exists).

/** How deep JSON bodies may nest (objects and arrays together). */
export const MAX_JSON_DEPTH = 64;

const NUL = '\u0000';

/** True when the JSON text opens more than `limit` objects/arrays at once. Linear, no recursion, no parse. */
export function jsonDepthExceeds(text: string, limit = MAX_JSON_DEPTH): boolean {
  if (text.length <= limit) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
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

export function tooDeep(): AppError {
  return new AppError(400, 'invalid_json', `JSON nesting is too deep: at most ${MAX_JSON_DEPTH} levels of objects and arrays.`);
}

function shown(key: string): string {
  return key.replaceAll(NUL, '\\u0000');
}

/**
 * The path (`metadata.a[2]`, or `''` for the value itself) of the first string or key holding a NUL, or
 * undefined. Iterative, so that it is safe on any depth.
 */
export function findNul(value: unknown): string | undefined {
  const stack: [unknown, string][] = [[value, '']];
  while (stack.length > 0) {
    const [item, path] = stack.pop()!;
    if (typeof item === 'string') {
      if (item.includes(NUL)) return path;
    } else if (Array.isArray(item)) {
      for (let i = item.length - 1; i >= 0; i--) stack.push([item[i], `${path}[${i}]`]);
    } else if (item !== null && typeof item === 'object') {
      const entries = Object.entries(item);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i];
        const at = path ? `${path}.${shown(key)}` : shown(key);
        if (key.includes(NUL)) return at;
        stack.push([child, at]);
      }
    }
  }
  return undefined;
}

export function nulInBody(path: string): AppError {
  return validationError(`Field ${path || 'body'} contains a NUL character, which text fields cannot hold.`);
}

/** Depth and NUL checks of a JSON text and its parsed value: the error to answer, or undefined. */
export function checkJson(text: string, parse: (text: string) => unknown): { value?: unknown; error?: Error } {
  if (jsonDepthExceeds(text)) return { error: tooDeep() };
  let value: unknown;
  try {
    value = parse(text);
  } catch (err) {
    return { error: err as Error };
  }
  // A NUL can only be in the text as the escape \u0000 (a raw one is not valid JSON): skip the walk otherwise.
  if (text.includes('\\u0000')) {
    const at = findNul(value);
    if (at !== undefined) return { error: nulInBody(at) };
  }
  return { value };
}

/** Wraps a string JSON body parser (Fastify's own, or a family's) with the depth and NUL checks. */
export function guardedJsonParser(base: FastifyBodyParser<string>): FastifyBodyParser<string> {
  return function (this: unknown, request: FastifyRequest, body: string, done: (err: Error | null, body?: unknown) => void) {
    const text = typeof body === 'string' ? body : String(body);
    if (jsonDepthExceeds(text)) return done(tooDeep());
    (base as (req: FastifyRequest, body: string, done: (err: Error | null, value?: unknown) => void) => void).call(
      this,
      request,
      body,
      (err, value) => {
        if (err) return done(err);
        if (text.includes('\\u0000')) {
          const at = findNul(value);
          if (at !== undefined) return done(nulInBody(at));
        }
        done(null, value);
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

/** For values that bypass the body parser (JWT claims, header values): true when the text holds a NUL. */
export function hasNul(text: string): boolean {
  return text.includes(NUL);
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
