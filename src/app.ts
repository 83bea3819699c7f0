import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import { pino } from 'pino';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { createTokenVerifier } from './core/auth/jwt.js';
import { createBlobStore } from './core/blobs/create.js';
import type { BlobStore } from './core/blobs/store.js';
import type { Config } from './core/config.js';
import type { AppContext } from './core/context.js';
import { createDatabase, type Database } from './core/db/database.js';
import { migrateToLatest } from './core/db/migrate.js';
import { installCors, isUnder } from './core/cors.js';
import { installDrain } from './core/drain.js';
import { installMetrics } from './core/metrics.js';
import { jsonErrorHandler, jsonNotFoundHandler } from './core/http.js';
import { requestIdGenerator } from './core/ids.js';
import { closingClientErrorHandler, utf8JsonParser, nulInUrl } from './core/input-guard.js';
import { registerOpenApi } from './core/openapi.js';
import { trackRoutes } from './core/route-table.js';
import { installStallGuard } from './core/stall-guard.js';
import { installUnreadBodyDrain } from './core/unread-body.js';
import { createResponseCache } from './core/response-cache.js';
import { validatorCompiler } from './core/validation.js';
import { lakePlugin } from './lake/index.js';
import { couchCorsOptions } from './script/couch/cors.js';
import { COUCH_PATH } from './script/couch/index.js';
import { scriptPlugin } from './script/index.js';
import { spacePlugin } from './space/index.js';
import { consolePlugin, registerConsoleRedirects } from './console/serve.js';

export interface AppDeps {
  /** An already open database (tests pass one per file); otherwise opened from config.databaseUrl. */
  database?: Database;
  /** Where file contents go; defaults to the filesystem under <data_dir>/blobs. */
  blobs?: BlobStore;
  /** Logger: true/false or pino options; defaults to pino at config.logLevel. */
  logger?: boolean | object;
}

const MAX_PARAM_LENGTH = 4096;

const REDACT = ['req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie'];

/** Builds the whole server, migrated and ready to listen (or to be driven with `app.inject`). */
export async function buildApp(config: Config, deps: AppDeps = {}): Promise<FastifyInstance> {
  const nextRequestId = requestIdGenerator();
  const database =
    deps.database ??
    createDatabase(config.databaseUrl, { poolSize: config.databasePoolSize, sqliteSynchronous: config.sqliteSynchronous, backgroundCheckpoint: true });
  try {
    await migrateToLatest(database.db);
  } catch (err) {
    if (!deps.database) await database.close().catch(() => {});
    throw err;
  }

  const app = Fastify({
    ...(deps.logger !== undefined ? { logger: deps.logger } : await defaultLogger(config)),
    // One line per request, written by the onResponse hook below (Fastify's own logging writes two).
    logController: new LogController({ disableRequestLogging: true }),
    // While shutting down, core/drain.ts answers 503 + Retry-After in each API's format (Fastify's has neither).
    return503OnClosing: false,
    bodyLimit: config.lake.bodyLimit,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : nextRequestId();
    },
    ajv: { customOptions: { removeAdditional: false } },
    // Fastify's default (100 characters) refused longer path segments: CouchDB document IDs up to 1,024 characters,
    // percent-encoded, must fit. Request lines stay bounded by Node's header limit.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Fastify's own answer to a request it cannot parse (431, 400, 408) closes the socket without saying so.
    clientErrorHandler: closingClientErrorHandler,
    // URLs Fastify cannot decode (e.g. "%ff") or route (a segment over maxParamLength) never reach a route or
    // its error handler: they get the mount's own error format here, not Fastify's.
    frameworkErrors: (error, request, rawReply) => {
      const reply = (rawReply as unknown as FastifyReply).status(400);
      const { script, space } = config.mounts;
      if (isUnder(request.url, space)) return void reply.type('text/plain; charset=utf-8').send('Malformed URL.');
      const message = `Malformed URL: ${error.message}`;
      if (script !== null && isUnder(request.url, prefixOf(script) + COUCH_PATH)) return void reply.send({ error: 'bad_request', reason: message });
      void reply.send({ error: 'bad_request', message });
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  // CouchDB's COPY (the CouchDB endpoint's document copy); Fastify knows only the common methods until told.
  app.addHttpMethod('COPY');
  // Every route from here on is mirrored, so that a wrong method on a known path is a 405 with Allow, not a 404.
  trackRoutes(app, { maxParamLength: MAX_PARAM_LENGTH });
  app.setValidatorCompiler(validatorCompiler);
  app.setErrorHandler(jsonErrorHandler);
  app.setNotFoundHandler(jsonNotFoundHandler);
  // Callback style: an async hook costs a promise per request on every route.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    // No NUL reaches a route, on any API (core/input-guard.ts): 404 in the path (400 for a PUT), 400 in the query.
    done(nulInUrl(request.method, request.url));
  });
  // A transfer that stalls (a body that stops arriving, a response the client stops reading) is cut, on every route.
  installStallGuard(app, config.stallSeconds);
  // A body refused unread (413, 415) is read and dropped, so the client gets its answer (before installDrain, whose
  // own Connection: close must win).
  installUnreadBodyDrain(app);
  // Every JSON body is depth-bounded and NUL-free before a route sees it (the families reuse the wrapper).
  const defaultJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, utf8JsonParser(defaultJson));
  app.addHook('onClose', async () => database.close());
  // One line per request at info (not registered at all when info is off, e.g. benchmarks at warn).
  if (deps.logger !== false && ['trace', 'debug', 'info'].includes(app.log.level)) {
    app.addHook('onResponse', (request, reply, done) => {
      const path = request.url.split('?')[0];
      request.log.info(
        {
          method: request.method,
          route: request.routeOptions.url,
          path,
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 10) / 10,
          ...(request.lakeUser ? { user: request.lakeUser.id } : {}),
          ...(request.scriptKey ? { key: request.scriptKey.id } : {}),
        },
        `${request.method} ${path} ${reply.statusCode}`,
      );
      done();
    });
  }
  installDrain(app, Math.max(1, Math.ceil(config.shutdownTimeoutSeconds)));
  const couchCors = config.mounts.script === null ? null : couchCorsOptions(config);
  await installCors(app, config.corsOrigins, couchCors ? [{ prefix: prefixOf(config.mounts.script!) + COUCH_PATH, options: couchCors }] : []);

  const ctx: AppContext = {
    config,
    database,
    verifyToken: createTokenVerifier(config),
    blobs: deps.blobs ?? (await createBlobStore(config)),
    responses: createResponseCache(database, config.responseCacheEntries),
  };
  // Metrics (when on) count the store's bytes and time the routes; registered before the families' routes.
  const observed = await installMetrics(app, config, database, ctx.blobs);
  ctx.blobs = observed.blobs;
  ctx.metrics = observed.metrics;

  await registerOpenApi(app);
  app.get('/health', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  const { lake, script, space } = config.mounts;
  if (lake) await app.register(lakePlugin, { prefix: prefixOf(lake), ctx });
  if (script) await app.register(scriptPlugin, { prefix: prefixOf(script), ctx });
  if (space) await app.register(spacePlugin, { prefix: prefixOf(space), ctx });
  if (config.mounts.console) {
    await app.register(consolePlugin, { prefix: config.mounts.console, config, mount: config.mounts.console });
    registerConsoleRedirects(app, config);
  }
  return app;
}

/** JSON lines, or human-readable lines (pino-pretty) when stdout is a terminal. */
async function defaultLogger(config: Config): Promise<Pick<FastifyServerOptions, 'logger' | 'loggerInstance'>> {
  const options = { level: config.logLevel, redact: REDACT };
  if (!process.stdout.isTTY) return { logger: options };
  const { default: pretty } = await import('pino-pretty');
  const stream = pretty({ sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
  return { loggerInstance: pino(options, stream) };
}

function prefixOf(mount: string): string {
  return mount === '/' ? '' : mount;
}
