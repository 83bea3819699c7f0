import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isMappedDatabaseError, toAppError } from './errors.js';

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
  const path = request.url.split('?')[0];
  const allow = otherMethods(request);
  if (allow.length) {
    return reply
      .status(405)
      .header('allow', allow.join(', '))
      .send({ error: 'method_not_allowed', message: `${request.method} is not allowed on ${path}; allowed: ${allow.join(', ')}.` });
  }
  return reply.status(404).send({ error: 'not_found', message: `Route ${request.method} ${path} not found.` });
}

/** The methods the request's path has routes for, when its own method has none (else empty: a plain 404). */
export function otherMethods(request: FastifyRequest, skip?: (pattern: string) => boolean): string[] {
  const allow = request.server.routeTable?.allowed(request.url, skip) ?? [];
  return allow.includes(request.method) ? [] : allow;
}
