import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { createTokenVerifier } from './core/auth/jwt.js';
import { createBlobStore } from './core/blobs/create.js';
import type { BlobStore } from './core/blobs/store.js';
import type { Config } from './core/config.js';
import type { AppContext } from './core/context.js';
import { createDatabase, type Database } from './core/db/database.js';
import { migrateToLatest } from './core/db/migrate.js';
import { jsonErrorHandler, jsonNotFoundHandler } from './core/http.js';
import { requestIdGenerator } from './core/ids.js';
import { registerOpenApi } from './core/openapi.js';
import { createResponseCache } from './core/response-cache.js';
import { validatorCompiler } from './core/validation.js';
import { lakePlugin } from './lake/index.js';
import { scriptPlugin } from './script/index.js';
import { spacePlugin } from './space/index.js';

export interface AppDeps {
  /** An already open database (tests pass one per file); otherwise opened from config.databaseUrl. */
  database?: Database;
  /** Where file contents go; defaults to the filesystem under <data_dir>/blobs. */
  blobs?: BlobStore;
  /** Logger: true/false or pino options; defaults to pino at config.logLevel. */
  logger?: boolean | object;
}

const REDACT = ['req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie'];

/** Builds the whole server, migrated and ready to listen (or to be driven with `app.inject`). */
export async function buildApp(config: Config, deps: AppDeps = {}): Promise<FastifyInstance> {
  const nextRequestId = requestIdGenerator();
  const database = deps.database ?? createDatabase(config.databaseUrl, { poolSize: config.databasePoolSize });
  await migrateToLatest(database.db);

  const app = Fastify({
    logger: deps.logger ?? { level: config.logLevel, redact: REDACT },
    bodyLimit: config.lake.bodyLimit,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : nextRequestId();
    },
    ajv: { customOptions: { removeAdditional: false } },
    // URLs Fastify cannot even decode (e.g. "%ff") get the mount's own error format, not Fastify's.
    frameworkErrors: (error, request, rawReply) => {
      const reply = rawReply as unknown as FastifyReply;
      const space = config.mounts.space;
      const plain = space !== null && (space === '/' || request.url === space || request.url.startsWith(`${space}/`));
      void (plain
        ? reply.status(400).type('text/plain; charset=utf-8').send('Malformed URL.')
        : reply.status(400).send({ error: 'bad_request', message: `Malformed URL: ${error.message}` }));
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setErrorHandler(jsonErrorHandler);
  app.setNotFoundHandler(jsonNotFoundHandler);
  // Callback style: an async hook costs a promise per request on every route.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  app.addHook('onClose', async () => database.close());

  const ctx: AppContext = {
    config,
    database,
    verifyToken: createTokenVerifier(config),
    blobs: deps.blobs ?? (await createBlobStore(config)),
    responses: createResponseCache(database, config.responseCacheEntries),
  };

  await registerOpenApi(app);
  app.get('/health', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  const { lake, script, space } = config.mounts;
  if (lake) await app.register(lakePlugin, { prefix: prefixOf(lake), ctx });
  if (script) await app.register(scriptPlugin, { prefix: prefixOf(script), ctx });
  if (space) await app.register(spacePlugin, { prefix: prefixOf(space), ctx });
  return app;
}

function prefixOf(mount: string): string {
  return mount === '/' ? '' : mount;
}
