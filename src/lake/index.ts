import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../core/context.js';
import { jsonErrorHandler } from '../core/http.js';
import { declareSecurity } from '../core/openapi.js';
import { requireBearer } from './auth.js';
import { collectionRoutes } from './collections/routes.js';
import { datasetRoutes } from './datasets/routes.js';
import { namespaceRoutes } from './namespaces/routes.js';
import { nodeRoutes } from './nodes/routes.js';
import { projectRoutes } from './projects/routes.js';

/** DreamLake: every route needs a Bearer JWT; errors are JSON `{error, message}`. */
export const lakePlugin: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.setErrorHandler(jsonErrorHandler);
  declareSecurity(app, 'bearerAuth');
  requireBearer(app, ctx);

  await app.register(namespaceRoutes, { ctx });
  // `spaces` and `projects` are two names for one resource on every route.
  for (const alias of ['projects', 'spaces'] as const) {
    const prefix = `/namespaces/:slug/${alias}`;
    await app.register(projectRoutes, { ctx, alias, prefix });
    await app.register(datasetRoutes, { ctx, prefix: `${prefix}/:projectSlug/datasets` });
    await app.register(collectionRoutes, { ctx, prefix: `${prefix}/:projectSlug/collections` });
    await app.register(nodeRoutes, { ctx, prefix: `${prefix}/:projectSlug` });
  }
};
