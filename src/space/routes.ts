import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance, RouteHandlerMethod } from 'fastify';
import { querySchema } from './filters.js';
import { MODELS, type Model } from './models.js';

const TAG = 'Dreamspace';
const IdParam = Type.Integer({ minimum: 0 });

/**
 * Registers the routes of the relation table up to one level of nesting, so that the OpenAPI document
 * lists them with their bodies, filters and answers, and a catch-all for deeper paths
 * (`/events/1/user/specimen/owner`). All of them share the one handler, which reads the path itself.
 */
export function registerRoutes(app: FastifyInstance, handler: RouteHandlerMethod, withRoot: boolean) {
  for (const model of Object.values(MODELS)) {
    const params = Type.Object({ id: IdParam });
    collectionRoutes(app, handler, `/${model.name}`, model, undefined);
    objectRoutes(app, handler, `/${model.name}/:id`, model, params);
    for (const [name, relation] of Object.entries(model.relations)) {
      const target = MODELS[relation.target];
      const path = `/${model.name}/:id/${name}`;
      if (relation.kind === 'many') {
        collectionRoutes(app, handler, path, target, params);
        objectRoutes(app, handler, `${path}/:${target.pk}`, target, Type.Object({ id: IdParam, [target.pk]: IdParam }));
      } else {
        objectRoutes(app, handler, path, target, params);
      }
    }
  }
  const hidden = { schema: { hide: true } };
  app.route({ method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], url: '/*', ...hidden, handler });
  if (withRoot) app.route({ method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], url: '/', ...hidden, handler });
}

function collectionRoutes(app: FastifyInstance, handler: RouteHandlerMethod, url: string, model: Model, params?: TSchema) {
  const { schemas, filters } = model.repo;
  const common = { tags: [TAG], ...(params ? { params } : {}) };
  const nested = params !== undefined;
  app.get(url, { schema: { ...common, summary: `List ${model.name} (filters combine with AND)`, querystring: querySchema(filters), response: { 200: Type.Array(schemas.out) } } }, handler);
  app.post(url, { schema: { ...common, summary: `Create a ${model.label.toLowerCase()}`, body: nested ? schemas.createScoped : schemas.create, response: { 200: schemas.out } } }, handler);
  const bulk = nested ? schemas.bulkScoped : schemas.bulk;
  if (bulk) app.put(url, { schema: { ...common, summary: `Add a list of ${model.name} at once`, body: bulk, response: { 200: Type.Array(schemas.out) } } }, handler);
}

function objectRoutes(app: FastifyInstance, handler: RouteHandlerMethod, url: string, model: Model, params: TSchema) {
  const { repo } = model;
  const common = { tags: [TAG], params };
  const label = model.label.toLowerCase();
  app.get(url, { schema: { ...common, summary: `Get a ${label}`, response: { 200: repo.schemas.out } } }, handler);
  if (repo.patch && repo.schemas.patch) {
    app.patch(url, { schema: { ...common, summary: `Change a ${label}`, body: repo.schemas.patch, response: { 200: repo.schemas.out } } }, handler);
  }
  if (repo.remove) {
    app.delete(url, { schema: { ...common, summary: `Delete a ${label} (answers it as it was)`, response: { 200: repo.schemas.out } } }, handler);
  }
}
