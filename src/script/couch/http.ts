import type { FastifyRequest } from 'fastify';
import { jsonShapeError, unstorableInJson, utf8Text } from '../../core/input-guard.js';
import { currentKey } from '../access/authenticate.js';
import type { ScriptContext } from '../context.js';
import type { ScriptKey } from '../keys/repo.js';
import { openDatabase, type CouchDatabase } from './databases.js';
import { badRequest, couchError } from './errors.js';
import type { WriteResult } from './write.js';

// Small pieces every CouchDB route uses: bodies arrive as raw bytes (attachments need them so) and JSON
// is parsed here; query values are CouchDB's (JSON-encoded keys, true/false flags).

export type Query = Record<string, string | undefined>;
export type DbParams = { db: string };

export function jsonBody(request: FastifyRequest): unknown {
  const raw = request.body;
  if (raw === undefined || raw === null) return undefined;
  const text = Buffer.isBuffer(raw) ? utf8Text(raw) : String(raw);
  if (text === undefined) throw couchError(400, 'bad_request', 'invalid UTF-8 JSON');
  if (text.trim() === '') return undefined;
  boundedJson(text);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw couchError(400, 'bad_request', 'invalid UTF-8 JSON');
  }
  // CouchDB refuses an unpaired surrogate and a number beyond a double's range as invalid JSON too.
  const unstorable = unstorableInJson(text, value);
  if (unstorable) throw couchError(400, 'bad_request', unstorable.message);
  return value;
}

/**
 * The same bounds as every other JSON body of the server (core/input-guard.ts: nesting, number of values), checked
 * on the text before parsing: this endpoint parses its own bodies, so the app-wide JSON parser never sees them.
 */
export function boundedJson(text: string): void {
  const refused = jsonShapeError(text);
  // In CouchDB's words, keeping the core's reason (the error handler would word an invalid_json as a parse error).
  if (refused) throw couchError(refused.status, refused.status === 413 ? 'too_large' : 'bad_request', refused.message);
}

export function objectBody(request: FastifyRequest, notObject = 'Request body must be a JSON object'): Record<string, unknown> {
  const body = jsonBody(request);
  // No body at all is no JSON, in CouchDB's words; JSON that is not an object gets CouchDB's other reason.
  if (body === undefined) throw couchError(400, 'bad_request', 'invalid UTF-8 JSON');
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest(notObject);
  return body as Record<string, unknown>;
}

/** The body of a document write (PUT or POST of one document), with CouchDB's reason when it is no object. */
export const documentBody = (request: FastifyRequest) => objectBody(request, 'Document must be a JSON object');

export const flag = (v: string | undefined) => v === 'true';

/**
 * A boolean option of _all_docs and its kind, as CouchDB's view parser reads one: true or false in any case, else
 * its 400 (document and _changes options stay `flag`s: CouchDB reads those as "true" or anything else).
 */
export function viewFlag(q: Query, name: string, fallback = false): boolean {
  const v = q[name];
  if (v === undefined) return fallback;
  const lower = v.toLowerCase();
  if (lower === 'true' || lower === 'false') return lower === 'true';
  throw couchError(400, 'query_parse_error', `Invalid boolean parameter: ${JSON.stringify(v)}`);
}

/** A JSON-encoded query value (startkey="a", keys=[…]); undefined when absent. */
export function jsonParam(q: Query, ...names: string[]): unknown {
  for (const name of names) {
    const v = q[name];
    if (v === undefined) continue;
    boundedJson(v);
    try {
      return JSON.parse(v);
    } catch {
      throw badRequest(`Query parameter ${name} must be JSON-encoded.`);
    }
  }
  return undefined;
}

/** An integer from `min` on, from a query string or a JSON body; undefined when absent. */
export function intValue(v: unknown, name: string, min = 0): number | undefined {
  if (v === undefined) return undefined;
  // Decimal text only (Number() would read 0x10, 1e3, +1 and " 1" too; CouchDB refuses them).
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw badRequest(`Invalid value for ${name}: ${String(v)}`);
  return n;
}

export const intParam = (q: Query, name: string, min = 0) => intValue(q[name], name, min);

export async function dbOf(sc: ScriptContext, request: FastifyRequest): Promise<{ key: ScriptKey; target: CouchDatabase }> {
  const key = currentKey(request);
  return { key, target: await openDatabase(sc.db, key, (request.params as DbParams).db) };
}

const STATUS: Record<string, number> = { conflict: 409, forbidden: 403, not_found: 404, missing_stub: 412, unauthorized: 401, too_large: 413 };

/** A single-document write's failure, thrown with its status. */
export function throwIfFailed(result: WriteResult | undefined): asserts result is { ok: true; id: string; rev: string } {
  if (!result) throw couchError(500, 'unknown_error', 'No result.');
  if ('error' in result) throw couchError(STATUS[result.error] ?? 400, result.error, result.reason);
}
