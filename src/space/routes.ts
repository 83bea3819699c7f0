import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance, RouteHandlerMethod } from 'fastify';
import { querySchema } from './filters.js';
import type { DocResponse } from '../core/openapi.js';
import { MODELS, type Model } from './models.js';

const TAG = 'Dreamspace';
const IdParam = Type.Integer({ minimum: 0 });

/** "a user", "an event". */
const withArticle = (noun: string) => `${/^[aeio]/i.test(noun) ? 'an' : 'a'} ${noun}`; // model labels: no "an u…"

/** Dreamspace's errors are plain text; the route schemas cannot say so, so the API reference is told here. */
const text = (description: string): DocResponse => ({ description, contentType: 'text/plain' });
const E400 = text('Malformed JSON, a wrong type, a missing, unknown or read-only field, or a reference to an object that does not exist; nothing is stored');
const E400_QUERY = text('An unknown, repeated or unreadable filter');
const E403 = text('Missing or wrong X-API-KEY');
const E404 = text('The path names an object that does not exist (the text names the first missing step)');
const E413 = text('A body over 16 MiB');

/** How many relations deep the OpenAPI document lists paths (the relation table nests without end). */
export const LISTED_DEPTH = 2;

/**
 * Registers the paths of the relation table up to LISTED_DEPTH relations deep (`/events/{id}/document/stamps`),
 * so that the OpenAPI document lists them with their bodies, filters and answers, and a catch-all for deeper
 * paths (`/events/1/user/specimen/owner`) and the singular names at the top (`/document/1/stamps`). All of them
 * share the one handler, which reads the path itself.
 */
export function registerRoutes(app: FastifyInstance, handler: RouteHandlerMethod, withRoot: boolean) {
  for (const model of Object.values(MODELS)) {
    collectionRoutes(app, handler, `/${model.name}`, model, undefined);
    objectPaths(app, handler, `/${model.name}/:id`, model, { id: IdParam }, LISTED_DEPTH);
  }
  const hidden = { schema: { hide: true } };
  // Every other method reaches the handler too, which answers what a path allows (405 with Allow).
  const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE'];
  app.route({ method: methods, url: '/*', ...hidden, handler });
  if (withRoot) app.route({ method: methods, url: '/', ...hidden, handler });
}

/** The routes of one object's path, and of the paths `depth` relations under it. */
function objectPaths(app: FastifyInstance, handler: RouteHandlerMethod, url: string, model: Model, params: Record<string, TSchema>, depth: number) {
  objectRoutes(app, handler, url, model, Type.Object(params));
  if (depth === 0) return;
  for (const [name, relation] of Object.entries(model.relations)) {
    const target = MODELS[relation.target];
    const path = `${url}/${name}`;
    if (relation.kind === 'one') {
      objectPaths(app, handler, path, target, params, depth - 1);
      continue;
    }
    collectionRoutes(app, handler, path, target, Type.Object(params));
    // A member's ID is named after its key (`{stamp_id}`), numbered if the path names that key already.
    let key = target.pk;
    for (let n = 2; Object.hasOwn(params, key); n++) key = `${target.pk}_${n}`;
    objectPaths(app, handler, `${path}/:${key}`, target, { ...params, [key]: IdParam }, depth - 1);
  }
}

function collectionRoutes(app: FastifyInstance, handler: RouteHandlerMethod, url: string, model: Model, params?: TSchema) {
  const { schemas, filters } = model.repo;
  const common = { tags: [TAG], ...(params ? { params } : {}) };
  const nested = params !== undefined;
  const missingParent: Record<number, DocResponse> = nested ? { 404: E404 } : {};
  const writeErrors = { 400: E400, 403: E403, ...missingParent, 413: E413 };
  app.get(url, { schema: { ...common, summary: `List ${model.name} (filters combine with AND)`, querystring: querySchema(filters), response: { 200: Type.Array(schemas.out) }, docResponses: { 400: E400_QUERY, 403: E403, ...missingParent } } }, handler);
  app.post(url, { schema: { ...common, summary: `Create ${withArticle(model.label.toLowerCase())}`, body: nested ? schemas.createScoped : schemas.create, response: { 200: schemas.out }, docResponses: writeErrors } }, handler);
  const bulk = nested ? schemas.bulkScoped : schemas.bulk;
  if (bulk) app.put(url, { schema: { ...common, summary: `Add a list of ${model.name} at once (all or none)`, body: bulk, response: { 200: Type.Array(schemas.out) }, docResponses: writeErrors } }, handler);
}

function objectRoutes(app: FastifyInstance, handler: RouteHandlerMethod, url: string, model: Model, params: TSchema) {
  const { repo } = model;
  const common = { tags: [TAG], params };
  const label = withArticle(model.label.toLowerCase());
  app.get(url, { schema: { ...common, summary: `Get ${label}`, response: { 200: repo.schemas.out }, docResponses: { 403: E403, 404: E404 } } }, handler);
  if (repo.patch && repo.schemas.patch) {
    app.patch(url, { schema: { ...common, summary: `Change ${label}`, body: repo.schemas.patch, response: { 200: repo.schemas.out }, docResponses: { 400: E400, 403: E403, 404: E404, 413: E413 } } }, handler);
  }
  if (repo.remove) {
    app.delete(url, { schema: { ...common, summary: `Delete ${label} (answers it as it was)`, response: { 200: repo.schemas.out }, docResponses: { 403: E403, 404: E404 } } }, handler);
  }
}
