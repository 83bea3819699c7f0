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

export function jsonNotFoundHandler(request: FastifyRequest, reply: FastifyReply) {
  return reply.status(404).send({ error: 'not_found', message: `Route ${request.method} ${request.url.split('?')[0]} not found.` });
}
