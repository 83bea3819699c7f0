import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../core/context.js';
import { jsonErrorHandler } from '../core/http.js';
import { utf8JsonParser } from '../core/input-guard.js';
import { declareSecurity } from '../core/openapi.js';
import { requireApiKey } from './access/authenticate.js';
import { changeRoutes } from './changes/routes.js';
import { createScriptContext } from './context.js';
import { COUCH_PATH, couchPlugin } from './couch/index.js';
import { documentRoutes } from './documents/routes.js';
import { keyRoutes, ownKeyRoute } from './keys/routes.js';
import { literalPathsFirst } from './literal-paths.js';
import { projectRoutes } from './projects/routes.js';

/**
 * The Dreamscript database: the REST API (every route needs `X-API-Key`; errors are JSON `{error, message}`)
 * and, under /couch, the CouchDB replication endpoint over the same store, with CouchDB's auth and errors.
 */
export const scriptPlugin: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  const sc = createScriptContext(ctx);
  app.decorateRequest('scriptKey', undefined);
  // Longpolls end (empty) when the server shuts down, instead of holding it up for their timeout.
  app.addHook('preClose', async () => sc.changes.stopWaiters());
  app.addHook('onClose', async () => sc.changes.close());

  await app.register(async (rest) => {
    rest.setErrorHandler(jsonErrorHandler);
    declareSecurity(rest, 'scriptApiKey');
    literalPathsFirst(rest);
    requireApiKey(rest, sc);
    // Bodies are JSON: Fastify's built-in text/plain parser would hand routes a string (a 400 "body must be
    // object"); without it every other media type is a 415 unsupported_media_type, as the docs say.
    rest.removeContentTypeParser('text/plain');
    // PATCH bodies may also come as JSON merge patches (RFC 7396), which is what they are.
    rest.addContentTypeParser('application/merge-patch+json', { parseAs: 'buffer' }, utf8JsonParser(rest.getDefaultJsonParser('error', 'error')));
    await rest.register(documentRoutes, { sc });
    await rest.register(projectRoutes, { sc });
    await rest.register(changeRoutes, { sc });
    await rest.register(keyRoutes, { sc });
    await rest.register(ownKeyRoute);
  });
  await app.register(couchPlugin, { prefix: COUCH_PATH, sc, settings: ctx.config.script });
};
