import type { FastifyInstance } from 'fastify';
import type { FastifyCorsOptions } from '@fastify/cors';

/** A part of the URL space with CORS rules of its own (the CouchDB endpoint: credentialed). */
export interface CorsScope {
  /** Path prefix, e.g. `/dreamscript/couch`. */
  prefix: string;
  /** Replace the server's options (origins, headers…) under the prefix. */
  options: FastifyCorsOptions;
}

/** Whether `url` (path and query) lies under the mount `prefix` (`/` takes everything). */
export function isUnder(url: string, prefix: string | null): boolean {
  return prefix !== null && (prefix === '/' || url === prefix || url.startsWith(`${prefix}/`) || url.startsWith(`${prefix}?`));
}

/**
 * The server's one CORS mechanism: @fastify/cors, app-wide (fastify-plugin), so that preflights are answered in
 * its onRequest hook before any API's auth. `[server] cors_origins` applies everywhere; a scope's own options
 * replace them under its prefix. Not registered at all when nothing is allowed anywhere.
 */
export async function installCors(app: FastifyInstance, serverOrigins: string[], scopes: CorsScope[]): Promise<void> {
  if (serverOrigins.length === 0 && scopes.length === 0) return;
  const server: FastifyCorsOptions = {
    origin: serverOrigins.length === 0 ? false : serverOrigins.includes('*') ? '*' : serverOrigins,
    methods: ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE', 'COPY'],
    exposedHeaders: ['x-next', 'x-request-id', 'etag', 'content-range', 'content-length', 'retry-after', 'location'],
    maxAge: 600,
  };
  const scoped = scopes.map((s) => ({ prefix: s.prefix, options: { ...server, ...s.options } }));
  await app.register((await import('@fastify/cors')).default, {
    delegator: (request, callback) => callback(null, scoped.find((s) => isUnder(request.url, s.prefix))?.options ?? server),
  });
}
