import type { FastifyCorsOptions } from '@fastify/cors';
import type { Config } from '../../core/config.js';

const EXPOSED = ['content-type', 'cache-control', 'accept-ranges', 'etag', 'server', 'x-couch-request-id', 'x-couch-update-newrev', 'x-couchdb-body-time'];

/**
 * CORS of the CouchDB endpoint, for browser apps (PouchDB in a web page): `[server] cors_origins` plus
 * `[dreamscript] cors_origins`. Credentialed (Basic auth), so an allowed origin is echoed, never `*`.
 * Null when no origin is allowed.
 */
export function couchCorsOptions(config: Config): FastifyCorsOptions | null {
  const origins = new Set([...config.corsOrigins, ...config.script.corsOrigins]);
  if (origins.size === 0) return null;
  return {
    origin: (origin, callback) => callback(null, origin !== undefined && (origins.has('*') || origins.has(origin))),
    credentials: true,
    exposedHeaders: EXPOSED,
  };
}
