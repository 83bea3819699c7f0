import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../core/context.js';
import { jsonErrorHandler } from '../core/http.js';
import { guardedJsonParser } from '../core/input-guard.js';
import { declareSecurity } from '../core/openapi.js';
import { requireApiKey } from './access/authenticate.js';
import { changeRoutes } from './changes/routes.js';
import { createScriptContext } from './context.js';
import { documentRoutes } from './documents/routes.js';
import { keyRoutes } from './keys/routes.js';
import { projectRoutes } from './projects/routes.js';

/** The Dreamscript database: every route needs `X-API-Key`; errors are JSON `{error, message}`. */
export const scriptPlugin: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  const sc = createScriptContext(ctx);
  app.setErrorHandler(jsonErrorHandler);
  declareSecurity(app, 'scriptApiKey');
  requireApiKey(app, sc);
  // PATCH bodies may also come as JSON merge patches (RFC 7396), which is what they are.
  app.addContentTypeParser('application/merge-patch+json', { parseAs: 'string' }, guardedJsonParser(app.getDefaultJsonParser('error', 'error')));
  // Longpolls end (empty) when the server shuts down, instead of holding it up for their timeout.
  app.addHook('preClose', async () => sc.changes.stopWaiters());
  app.addHook('onClose', async () => sc.changes.close());

  await app.register(documentRoutes, { sc });
  await app.register(projectRoutes, { sc });
  await app.register(changeRoutes, { sc });
  await app.register(keyRoutes, { sc });
};
