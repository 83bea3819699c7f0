import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../core/context.js';
import { jsonErrorHandler } from '../core/http.js';
import { declareSecurity } from '../core/openapi.js';
import { requireBearer } from './auth.js';
import { collectionRoutes } from './collections/routes.js';
import { datasetRoutes } from './datasets/routes.js';
import { namespaceRoutes } from './namespaces/routes.js';
import { nodeRoutes } from './nodes/routes.js';
import { signedRoutes } from './original/signed-routes.js';
import { uploadsPlugin } from './original/uploads-plugin.js';
import { projectRoutes } from './projects/routes.js';

const LEFTOVER_GRACE_MS = 3600_000;

/** DreamLake: every route needs a Bearer JWT; errors are JSON `{error, message}`. */
export const lakePlugin: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.setErrorHandler(jsonErrorHandler);
  // What uploads cut short by a crash left behind; an hour's grace spares uploads of other live processes.
  app.addHook('onReady', async () => {
    await ctx.blobs.sweep(new Date(Date.now() - LEFTOVER_GRACE_MS)).catch((err: unknown) => app.log.warn({ err }, 'could not sweep upload leftovers'));
  });
  declareSecurity(app, 'bearerAuth');
  requireBearer(app, ctx);
  // Signed URLs carry their credential in the query (their routes say so with config.signedUrl).
  await app.register(signedRoutes, { ctx });

  await app.register(namespaceRoutes, { ctx });
  // `spaces` and `projects` are two names for one resource on every route.
  for (const alias of ['projects', 'spaces'] as const) {
    const prefix = `/namespaces/:slug/${alias}`;
    await app.register(projectRoutes, { ctx, alias, prefix });
    await app.register(datasetRoutes, { ctx, prefix: `${prefix}/:projectSlug/datasets` });
    await app.register(collectionRoutes, { ctx, prefix: `${prefix}/:projectSlug/collections` });
    await app.register(nodeRoutes, { ctx, prefix: `${prefix}/:projectSlug` });
  }
  await app.register(uploadsPlugin, { ctx });
};
