import { NoResultError } from 'kysely';
import { isForeignKeyViolation, isOutOfSpace, isTransient, isUniqueViolation, isValueRejected } from './db/errors.js';

/**
 * One catalogue of named errors. Handlers throw `AppError`s; each family's error handler renders them
 * (JSON `{error, message}` for DreamLake and Dreamscript, plain text for Dreamspace).
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const badRequest = (message: string, code = 'bad_request') => new AppError(400, code, message);
export const validationError = (message: string) => new AppError(400, 'validation_error', message);
export const unauthorized = (message = 'Authentication required.') => new AppError(401, 'unauthorized', message);
export const forbidden = (message = 'You may not do this.') => new AppError(403, 'forbidden', message);
export const notFound = (message: string) => new AppError(404, 'not_found', message);
export const conflict = (message: string) => new AppError(409, 'conflict', message);
export const preconditionFailed = (message: string) => new AppError(412, 'precondition_failed', message);
export const payloadTooLarge = (message: string) => new AppError(413, 'payload_too_large', message);
export const rangeNotSatisfiable = (message: string, size: number) =>
  new AppError(416, 'range_not_satisfiable', message, { 'content-range': `bytes */${size}` });
export const tooManyRequests = (retryAfterSeconds: number) =>
  new AppError(429, 'rate_limited', 'Too many requests; retry later.', { 'retry-after': String(retryAfterSeconds) });

export const serviceUnavailable = (message: string, retryAfterSeconds: number) =>
  new AppError(503, 'service_unavailable', message, { 'retry-after': String(retryAfterSeconds) });

/** Error shapes raised by Fastify itself (body parsing, limits, schema validation). */
interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message: string;
  validation?: unknown[];
  validationContext?: string;
}

/** Maps any thrown value to an AppError; unknown failures become a 500 that leaks nothing. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const fromDb = databaseError(err);
  if (fromDb) return fromDb;
  const e = err as FastifyLikeError;
  if (e && Array.isArray(e.validation)) {
    return validationError(describeValidation(e));
  }
  if (e && typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    switch (e.code) {
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return new AppError(400, 'invalid_json', `Malformed JSON body: ${e.message}`);
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return payloadTooLarge('Request body is too large.');
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return new AppError(415, 'unsupported_media_type', 'Unsupported Content-Type; send application/json.');
      default:
        if (e.statusCode === 400 && e instanceof SyntaxError) {
          return new AppError(400, 'invalid_json', `Malformed JSON body: ${e.message}`);
        }
        return new AppError(e.statusCode, e.code ?? 'bad_request', e.message);
    }
  }
  return new AppError(500, 'internal_error', 'Internal server error.');
}

/**
 * The last line of defence against 5xx from the database for what a client sent or raced: constraint
 * violations a route did not map itself, rows gone between a check and a write, values PostgreSQL refuses.
 * Routes map the cases they know more precisely; these say what happened, in the catalogue's terms.
 */
function databaseError(err: unknown): AppError | undefined {
  if (err instanceof NoResultError) return notFound('The object was not found (it may have just been deleted).');
  if (isForeignKeyViolation(err)) return conflict('An object this request refers to was changed or deleted at the same time; retry.');
  if (isUniqueViolation(err)) return conflict('This conflicts with an object that already exists.');
  if (isTransient(err)) return conflict('The request collided with a concurrent change; retry.');
  if (isValueRejected(err)) return badRequest('A value in the request is too large or not valid for storage.');
  if (isOutOfSpace(err)) return new AppError(507, 'insufficient_storage', 'The server is out of storage space: nothing was stored. Retry later.');
  return undefined;
}

/** True when toAppError answered `err` from a database error (worth a warning: a route did not map it). */
export function isMappedDatabaseError(err: unknown): boolean {
  return !(err instanceof AppError) && databaseError(err) !== undefined;
}

interface AjvIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

function describeValidation(e: FastifyLikeError): string {
  const issue = (e.validation?.[0] ?? {}) as AjvIssue;
  const where = e.validationContext ?? 'body';
  const path = (issue.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
  if (issue.keyword === 'required') return `${where}.${String(issue.params?.missingProperty)} is required.`;
  if (issue.keyword === 'additionalProperties') {
    const extra = String(issue.params?.additionalProperty);
    return `Unknown field ${path ? `${path}.` : ''}${extra} in ${where}.`;
  }
  const field = path ? `${where}.${path}` : where;
  return `${field} ${issue.message ?? 'is invalid'}.`;
}
