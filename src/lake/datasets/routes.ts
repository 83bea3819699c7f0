import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../core/context.js';
import { pageEnvelope, PageQuery, toPage } from '../../core/pagination.js';
import { currentUser } from '../auth.js';
import { presentCollection } from '../collections/present.js';
import type { LakeDb } from '../db.js';
import { ensureAllowed } from '../policies.js';
import { checkAddressableName, checkMetadata, errors, ProjectParams, SuccessBody } from '../schemas.js';
import { resolveProject } from '../scope.js';
import { presentDataset } from './present.js';
import { datasetBindrs, findDataset, findDatasetWithCollections, listDatasets } from './queries.js';
import * as repo from './repo.js';
import {
  ATTACH_ROUTE_NAMES,
  AttachCollections,
  AttachedBody,
  CreateDataset,
  DatasetBody,
  DatasetDetailBody,
  DatasetList,
  DatasetParams,
  DetachCollections,
  DetachedBody,
  UpdateDataset,
} from './schemas.js';

const tags = ['DreamLake: datasets'];

/** Registered under …/projects/:projectSlug/datasets and its …/spaces/… alias. */
export const datasetRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, { ctx }) => {
  const db = ctx.database.db as LakeDb;

  app.post('/', {
    schema: { tags, summary: 'Create a dataset', params: ProjectParams, body: CreateDataset, response: { 201: DatasetBody, ...errors(400, 401, 403, 404, 409) } },
  }, async (request, reply) => {
    checkMetadata(request.body.metadata);
    checkAddressableName(request.body.name);
    const { project, role } = await resolveProject(db, currentUser(request).id, request.params.slug, request.params.projectSlug);
    ensureAllowed(role, 'write');
    return reply.status(201).send(presentDataset(await repo.createDataset(db, project.id, request.body), []));
  });

  app.get('/', {
    schema: { tags, summary: 'List datasets, newest first', params: ProjectParams, querystring: PageQuery, response: { 200: DatasetList, ...errors(400, 401, 404) } },
  }, async (request, reply) => {
    const page = toPage(request.query);
    const { slug, projectSlug } = request.params;
    const userId = currentUser(request).id;
    return ctx.responses.send(reply, userId, async () => {
      const { datasets, total } = await listDatasets(db, userId, slug, projectSlug, page);
      return { datasets: datasets.map((d) => presentDataset(d.row, d.bindrs)), ...pageEnvelope(page, total) };
    });
  });

  app.get('/:name', {
    schema: { tags, summary: 'Get a dataset with all its collections and their members', params: DatasetParams, response: { 200: DatasetDetailBody, ...errors(401, 404) } },
  }, async (request, reply) => {
    const { slug, projectSlug, name } = request.params;
    const userId = currentUser(request).id;
    return ctx.responses.send(reply, userId, async () => {
      const { dataset, collections } = await findDatasetWithCollections(db, userId, slug, projectSlug, name);
      const bindrs = collections.map((c) => ({ id: c.collection.id, name: c.collection.name }));
      return { ...presentDataset(dataset, bindrs), collections: collections.map((c) => presentCollection(c.collection, c.members)) };
    });
  });

  app.patch('/:name', {
    schema: { tags, summary: 'Update a dataset (only the given fields change)', params: DatasetParams, body: UpdateDataset, response: { 200: DatasetBody, ...errors(400, 401, 403, 404, 409) } },
  }, async (request) => {
    checkMetadata(request.body.metadata);
    checkAddressableName(request.body.name);
    const { slug, projectSlug, name } = request.params;
    const { dataset, role } = await findDataset(db, currentUser(request).id, slug, projectSlug, name);
    ensureAllowed(role, 'write');
    const row = await repo.updateDataset(db, dataset, request.body);
    return presentDataset(row, await datasetBindrs(db, row.id));
  });

  app.delete('/:name', {
    schema: { tags, summary: 'Soft-delete a dataset (its collections become standalone)', params: DatasetParams, response: { 200: SuccessBody, ...errors(401, 403, 404) } },
  }, async (request) => {
    const { slug, projectSlug, name } = request.params;
    const { dataset, role } = await findDataset(db, currentUser(request).id, slug, projectSlug, name);
    ensureAllowed(role, 'write');
    await repo.deleteDataset(db, dataset.id);
    return { success: true as const };
  });

  // `bindrs` is the original clients' name for collections.
  for (const route of ATTACH_ROUTE_NAMES) {
    app.post(`/:name/${route}`, {
      schema: { tags, summary: 'Attach existing collections (by name) to the dataset', params: DatasetParams, body: AttachCollections, response: { 200: AttachedBody, ...errors(400, 401, 403, 404) } },
    }, async (request) => {
      const { slug, projectSlug, name } = request.params;
      const { dataset, role } = await findDataset(db, currentUser(request).id, slug, projectSlug, name);
      ensureAllowed(role, 'write');
      return repo.attachCollections(db, dataset, request.body.add);
    });

    app.delete(`/:name/${route}`, {
      schema: { tags, summary: 'Detach collections (by name); they become standalone', params: DatasetParams, body: DetachCollections, response: { 200: DetachedBody, ...errors(400, 401, 403, 404) } },
    }, async (request) => {
      const { slug, projectSlug, name } = request.params;
      const { dataset, role } = await findDataset(db, currentUser(request).id, slug, projectSlug, name);
      ensureAllowed(role, 'write');
      return repo.detachCollections(db, dataset, request.body.remove);
    });
  }
};
