import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, toAppError } from '../../core/errors.js';
import { otherMethods } from '../../core/http.js';

// CouchDB's error shape, {error, reason}, for everything under /couch. The shared rules (policy.ts,
// keys) throw the catalogue's AppErrors; their codes are renamed here to the ones CouchDB clients know.

export const couchError = (status: number, error: string, reason: string) => new AppError(status, error, reason);

export const badRequest = (reason: string) => couchError(400, 'bad_request', reason);
export const missing = (reason = 'missing') => couchError(404, 'not_found', reason);
export const updateConflict = () => couchError(409, 'conflict', 'Document update conflict.');
export const noDatabase = () => couchError(404, 'not_found', 'Database does not exist.');
/** CouchDB's refusal of a document id (couch_doc:validate_docid). */
export const illegalDocId = (reason: string) => couchError(400, 'illegal_docid', reason);
export const RESERVED_ID = 'Only reserved document ids may start with underscore.';

/**
 * An underscore name that is no request of this server, in a document's place: CouchDB's `illegal_docid` for a write
 * (PUT, POST), which names it as a document id; for other methods the 400 says no request has that name.
 */
export function unknownUnderscore(method: string, name: string): AppError {
  if (method === 'PUT' || method === 'POST') return illegalDocId(RESERVED_ID);
  return badRequest(`Only reserved document ids may start with underscore (${name} is not a request this server knows).`);
}

/**
 * The answer to a request that no route takes (`prefix`: the endpoint's mount): a 405 naming the methods of its
 * path's special routes (`/{db}/_revs_limit` is no document, though the document routes would take it); a 400 for
 * another underscore name in a document's place, which only a reserved document id may have; a 405 naming
 * the path's other methods (core/route-table.ts); else a 404.
 */
export function unrouted(request: FastifyRequest, prefix: string): AppError {
  const special = otherMethods(request, isDocumentRoute);
  if (special.length) return methodNotAllowed(special);
  const docid = request.url.split('?')[0].slice(prefix.length).split('/')[2];
  if (docid?.startsWith('_') && docid !== '_design' && docid !== '_local') return unknownUnderscore(request.method, docid);
  const any = otherMethods(request);
  if (any.length) return methodNotAllowed(any);
  return couchError(404, 'not_found', `Route ${request.method} ${request.url.split('?')[0]} not found.`);
}

export const isDocumentRoute = (pattern: string) => pattern.includes('/:docid');

/** CouchDB's 405: `Allow` and the reason list the methods without spaces ("Only GET,HEAD,POST allowed"). */
export const methodNotAllowed = (allow: string[]) => new AppError(405, 'method_not_allowed', `Only ${allow.join(',')} allowed`, { allow: allow.join(',') });

export const notSupported = (what: string) =>
  couchError(400, 'bad_request', `${what}: this server stores design documents but does not run JavaScript from them (views, shows, lists, updates, filter and validate functions). Use filter=_doc_ids or filter=_selector for filtered replication.`);

const RENAMED: Record<string, string> = {
  validation_error: 'bad_request',
  invalid_request: 'bad_request',
  invalid_json: 'bad_request',
  rate_limited: 'too_many_requests',
  payload_too_large: 'too_large',
  unsupported_media_type: 'bad_content_type',
  precondition_failed: 'file_exists',
  internal_error: 'unknown_error',
};

export function couchErrorHandler(err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  const e = toAppError(err);
  if (e.status >= 500) request.log.error({ err }, 'request failed');
  const reason = e.code === 'invalid_json' ? 'invalid UTF-8 JSON' : e.message;
  return reply
    .status(e.status)
    .headers(e.headers)
    .type('application/json')
    .send({ error: RENAMED[e.code] ?? e.code, reason });
}
