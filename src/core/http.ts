import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, isMappedDatabaseError, toAppError } from './errors.js';

/** Renders any error as JSON `{error, message}` with its status (DreamLake and Dreamscript). */
export function jsonErrorHandler(err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  const appError = toAppError(err);
  if (appError.status >= 500) request.log.error({ err }, 'request failed');
  else if (isMappedDatabaseError(err)) request.log.warn({ err }, `database error answered as ${appError.status}`);
  return reply
    .status(appError.status)
    .headers(appError.headers)
    .type('application/json; charset=utf-8')
    .send({ error: appError.code, message: appError.message });
}

/** 404 for a path no route has; 405 with `Allow` for one that has routes for other methods (core/route-table.ts). */
export function jsonNotFoundHandler(request: FastifyRequest, reply: FastifyReply) {
  const allow = otherMethods(request);
  if (allow.length) return jsonErrorHandler(methodNotAllowed(request, allow), request, reply);
  return reply.status(404).send({ error: 'not_found', message: `Route ${request.method} ${request.url.split('?')[0]} not found.` });
}

/** The 405 for a path that has routes only for `allow`, with its `Allow` header. */
export function methodNotAllowed(request: FastifyRequest, allow: string[]): AppError {
  const path = request.url.split('?')[0];
  return new AppError(405, 'method_not_allowed', `${request.method} is not allowed on ${path}; allowed: ${allow.join(', ')}.`, { allow: allow.join(', ') });
}

/** The methods the request's path has routes for, when its own method has none (else empty: a plain 404). */
export function otherMethods(request: FastifyRequest, skip?: (pattern: string) => boolean): string[] {
  const allow = request.server.routeTable?.allowed(request.url, skip) ?? [];
  return allow.includes(request.method) ? [] : allow;
}
