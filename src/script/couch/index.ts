import type { FastifyPluginAsync } from 'fastify';
import type { ScriptContext } from '../context.js';
import { createBodyBudget } from '../../core/body-budget.js';
import { guardTransfer, holdBody } from '../../core/stall-guard.js';
import type { Config } from '../../core/config.js';
import { authenticate } from './auth.js';
import { couchErrorHandler, couchError, unrouted } from './errors.js';
import { bulkRoutes } from './routes-bulk.js';
import { databaseRoutes } from './routes-db.js';
import { documentRoutes } from './routes-docs.js';
import { copyRoutes } from './copy.js';
import { findRoutes } from './find.js';

// The CouchDB replication endpoint (/dreamscript/couch): every database is a Dreamscript project, and
// every route translates CouchDB's protocol onto the same revision store, keys and policies as the REST
// API (documents/commit.ts, access/policy.ts). Errors are CouchDB's {error, reason}.

/** Where the endpoint is mounted under the Dreamscript mount. */
export const COUCH_PATH = '/couch';

/** Largest request body: a _bulk_docs batch with inline (base64) attachments. */
export const COUCH_BODY_LIMIT = 256 * 1024 * 1024;
/** Bodies above this size take their bytes from the body budget before they are read. */
const LARGE_BODY = 1024 * 1024;

export const couchPlugin: FastifyPluginAsync<{ sc: ScriptContext; settings: Config['script'] }> = async (app, { sc, settings }) => {
  // CouchDB's own API documentation describes these routes; the OpenAPI document leaves them out.
  app.addHook('onRoute', (route) => {
    route.schema = { ...(route.schema ?? {}), hide: true };
  });
  app.setErrorHandler(couchErrorHandler);
  app.setNotFoundHandler((request, reply) => couchErrorHandler(unrouted(request, app.prefix), request, reply));
  // Bodies arrive as bytes: JSON is parsed by the routes (so that a bad one is CouchDB's 400), attachments stay bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: COUCH_BODY_LIMIT }, (_request, body, done) => done(null, body));
  // Large bodies wait for room in the process's body budget before they are read, and give it back when their
  // response is over: a burst of 256 MiB batches queues (then 503s) instead of exhausting the heap.
  const budget = createBodyBudget(settings.couchBodyBudget);
  // Callback style: every request of a replication passes here, and most have small bodies (no promise for them).
  app.addHook('preParsing', (request, reply, payload, done) => {
    const declared = request.headers['content-length'];
    const chunked = declared === undefined && request.headers['transfer-encoding'] !== undefined;
    const bytes = chunked ? COUCH_BODY_LIMIT : Number(declared ?? 0); // chunked: as much as it may be
    if (!(bytes > LARGE_BODY)) return done(null, payload);
    // While it waits its turn the body is not read, so its silence is ours, not the client's (core/stall-guard.ts).
    holdBody(request);
    budget.take(Math.min(bytes, COUCH_BODY_LIMIT)).then((giveBack) => {
      reply.raw.once('finish', giveBack);
      reply.raw.once('close', giveBack);
      // A body that stops arriving would keep its share of the budget for good: while it is read, its connection
      // may stay silent at most couch_body_idle_timeout.
      guardTransfer(request, reply, settings.couchBodyIdle);
      done(null, payload);
    }, done);
  });

  // CORS headers come from the app-wide mechanism (core/cors.ts, with this endpoint's options from cors.ts);
  // an OPTIONS it does not answer (an origin not allowed) is still a 204, as CouchDB's.
  app.options('/', { config: { public: true } }, async (_request, reply) => reply.status(204).send());
  app.options('/*', { config: { public: true } }, async (_request, reply) => reply.status(204).send());

  // The server root (and _uuids) answer without credentials; an Authorization header there is not even read.
  app.addHook('onRequest', async (request) => {
    if ((request.routeOptions.config as { public?: boolean }).public) return;
    await authenticate(sc, request);
  });

  await app.register(databaseRoutes, { sc });
  await app.register(documentRoutes, { sc });
  await app.register(bulkRoutes, { sc });
  await app.register(findRoutes, { sc });
  await app.register(copyRoutes, { sc });
};

export { couchError };
