import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isMappedDatabaseError, toAppError } from '../core/errors.js';

/** Dreamspace errors are plain text, as the original server's were (only the status says what kind). */
export function plainTextErrorHandler(err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  const appError = toAppError(err);
  if (appError.status >= 500) request.log.error({ err }, 'request failed');
  else if (isMappedDatabaseError(err)) request.log.warn({ err }, `database error answered as ${appError.status}`);
  return reply
    .status(appError.status)
    .headers(appError.headers)
    .type('text/plain; charset=utf-8')
    .send(appError.message);
}
