import type { FastifyInstance } from 'fastify';
import { methodNotAllowed, otherMethods } from '../core/http.js';

const parametric = (pattern: string) => pattern.includes(':') || pattern.includes('*');

/**
 * A parametric route takes its literal siblings' paths by the methods they lack: `PUT /documents/_bulk` reaches
 * `PUT /documents/:documentId`, whose params schema answered 400 "params.documentId must be integer". A path that a
 * literal route has is a 405 naming that route's methods, as the not-found handler answers (core/http.ts), before
 * the key is checked, as there.
 */
export function literalPathsFirst(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    const pattern = request.routeOptions.url;
    if (pattern === undefined || !parametric(pattern)) return;
    const allow = otherMethods(request, parametric);
    if (!allow.length) return;
    throw methodNotAllowed(request, allow);
  });
}
