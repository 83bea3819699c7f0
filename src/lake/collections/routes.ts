import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../core/context.js';
import { pageEnvelope, toPage } from '../../core/pagination.js';
import { currentUser } from '../auth.js';
import type { LakeDb } from '../db.js';
import { expandMembers } from '../nodes/membership.js';
import { ensureAllowed } from '../policies.js';
import { checkAddressableName, checkMetadata, errors, ProjectParams, SuccessBody } from '../schemas.js';
import { resolveProject } from '../scope.js';
import { memberRoutes } from './member-routes.js';
import { presentCollection } from './present.js';
import { findCollection, listCollections } from './queries.js';
import * as repo from './repo.js';
import {
  CollectionBody,
  type CollectionAlias,
  collectionList,
  CollectionParams,
  CreateCollection,
  ExpandedCollectionBody,
  GetCollectionQuery,
  ListCollectionsQuery,
  UpdateCollection,
} from './schemas.js';

const tags = ['DreamLake: collections'];

/**
 * Registered under …/projects/:projectSlug/collections, its …/spaces/… alias, and under `bindrs` (the
 * original clients' name for collections); each list answers under the key of its own name.
 */
export const collectionRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext; alias: CollectionAlias }> = async (app, { ctx, alias }) => {
  const db = ctx.database.db as LakeDb;

  app.post('/', {
    schema: { tags, summary: 'Create a collection (optionally in a dataset, optionally with members)', params: ProjectParams, body: CreateCollection, response: { 201: CollectionBody, ...errors(400, 401, 403, 404, 409) } },
  }, async (request, reply) => {
    checkMetadata(request.body.metadata);
    checkAddressableName(request.body.name);
    const { project, role } = await resolveProject(db, currentUser(request).id, request.params.slug, request.params.projectSlug);
    ensureAllowed(role, 'write');
    const { row, members } = await repo.createCollection(db, project.id, request.body);
    return reply.status(201).send(presentCollection(row, members));
  });

  app.get('/', {
    schema: { tags, summary: 'List collections, newest first (optionally of one dataset)', params: ProjectParams, querystring: ListCollectionsQuery, response: { 200: collectionList(alias), ...errors(400, 401, 404) } },
  }, async (request, reply) => {
    const page = toPage(request.query);
    const { slug, projectSlug } = request.params;
    const { datasetId } = request.query;
    const userId = currentUser(request).id;
    return ctx.responses.send(reply, userId, async () => {
      const { items, total } = await listCollections(db, userId, slug, projectSlug, page, datasetId);
      return { [alias]: items.map((i) => presentCollection(i.collection, i.members)), ...pageEnvelope(page, total) };
    });
  });

  app.get('/:name', {
    schema: { tags, summary: 'Get a collection with its members (?expand=nodes adds the member nodes)', params: CollectionParams, querystring: GetCollectionQuery, response: { 200: ExpandedCollectionBody, ...errors(400, 401, 404) } },
  }, async (request, reply) => {
    const { slug, projectSlug, name } = request.params;
    const expand = request.query.expand === 'nodes';
    const userId = currentUser(request).id;
    return ctx.responses.send(reply, userId, async () => {
      const { collection, members, projectId } = await findCollection(db, userId, slug, projectSlug, name, true);
      const body = presentCollection(collection, members);
      return expand ? { ...body, nodes: await expandMembers(db, projectId, members) } : body;
    });
  });

  app.patch('/:name', {
    schema: { tags, summary: 'Update a collection: rename, move to a dataset or to none, replace members', params: CollectionParams, body: UpdateCollection, response: { 200: CollectionBody, ...errors(400, 401, 403, 404, 409) } },
  }, async (request) => {
    checkMetadata(request.body.metadata);
    checkAddressableName(request.body.name);
    const { slug, projectSlug, name } = request.params;
    const { collection, role } = await findCollection(db, currentUser(request).id, slug, projectSlug, name, false);
    ensureAllowed(role, 'write');
    const { row, members } = await repo.updateCollection(db, collection, request.body);
    return presentCollection(row, members);
  });

  app.delete('/:name', {
    schema: { tags, summary: 'Soft-delete a collection (its name is free again)', params: CollectionParams, response: { 200: SuccessBody, ...errors(401, 403, 404) } },
  }, async (request) => {
    const { slug, projectSlug, name } = request.params;
    const { collection, role } = await findCollection(db, currentUser(request).id, slug, projectSlug, name, false);
    ensureAllowed(role, 'write');
    await repo.deleteCollection(db, collection.id);
    return { success: true as const };
  });

  await app.register(memberRoutes, { ctx });
};
