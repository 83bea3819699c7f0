import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../core/context.js';
import { pageEnvelope, toPage } from '../../core/pagination.js';
import type { LakeDb } from '../db.js';
import { episodeRoutes } from '../episodes/routes.js';
import { checkMetadata, errors, ProjectParams } from '../schemas.js';
import { projectFor, projectNodeFor } from './access.js';
import { contentRoutes } from './content.js';
import { updateNode } from './move.js';
import { invalidPath, parseNodePath } from './paths.js';
import { presentNode } from './present.js';
import { listChildren, listDescendants, lookupPath } from './queries.js';
import { deleteSubtree } from './remove.js';
import { ChildrenQuery, CreateNode, DeletedBody, DescendantsQuery, LookupQuery, NodeBody, NodeList, NodeParams, UpdateNode } from './schemas.js';
import { uploadRoutes } from './upload.js';
import { createNode } from './write.js';

const tags = ['DreamLake: nodes'];

/** The node tree of a project, its files' content, and episodes; mounted under `…/:projectSlug`. */
export const nodeRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, { ctx }) => {
  const db = ctx.database.db as LakeDb;
  const blobs = ctx.blobs;

  app.post('/nodes', {
    schema: { tags, summary: 'Create a folder or episode and its missing ancestors (mkdir -p; 200 when it exists)', params: ProjectParams, body: CreateNode, response: { 200: NodeBody, 201: NodeBody, ...errors(400, 401, 403, 404, 409) } },
  }, async (request, reply) => {
    checkMetadata(request.body.metadata);
    const segments = parseNodePath(request.body.path);
    if (!segments.length) throw invalidPath('path must name a node below the root.');
    const project = await projectFor(db, request, request.params, 'write');
    const { node, created } = await createNode(db, project.id, { ...request.body, segments });
    return reply.status(created ? 201 : 200).send(presentNode(node));
  });

  app.get('/nodes', {
    schema: { tags, summary: 'Children of a folder (the root when parentId is absent): folders first, then by name, or in the order asked', params: ProjectParams, querystring: ChildrenQuery, response: { 200: NodeList, ...errors(400, 401, 404) } },
  }, async (request) => {
    const project = await projectFor(db, request, request.params);
    const page = toPage(request.query);
    const { parentId, sort = 'folders', order = 'asc' } = request.query;
    const { rows, total } = await listChildren(db, project.id, parentId ?? null, page, { sort, order });
    return { nodes: rows.map(presentNode), ...pageEnvelope(page, total) };
  });

  app.get('/nodes/lookup', {
    schema: { tags, summary: 'One node by path', params: ProjectParams, querystring: LookupQuery, response: { 200: NodeBody, ...errors(400, 401, 404) } },
  }, async (request) => {
    const segments = parseNodePath(request.query.path);
    if (!segments.length) throw invalidPath('path must name a node below the root.');
    const project = await projectFor(db, request, request.params);
    return presentNode(await lookupPath(db, project.id, segments));
  });

  app.get('/nodes/:id', {
    schema: { tags, summary: 'A node', params: NodeParams, response: { 200: NodeBody, ...errors(401, 404) } },
  }, async (request) => {
    return presentNode((await projectNodeFor(db, request, request.params)).node);
  });

  app.get('/nodes/:id/descendants', {
    schema: { tags, summary: 'The subtree below a node, in path order', params: NodeParams, querystring: DescendantsQuery, response: { 200: NodeList, ...errors(400, 401, 404) } },
  }, async (request) => {
    const { project, node } = await projectNodeFor(db, request, request.params);
    const page = toPage(request.query);
    const { rows, total } = await listDescendants(db, project.id, node, request.query, page);
    return { nodes: rows.map(presentNode), ...pageEnvelope(page, total) };
  });

  app.patch('/nodes/:id', {
    schema: { tags, summary: 'Rename or move a node (its subtree follows), or change its tags and metadata', params: NodeParams, body: UpdateNode, response: { 200: NodeBody, ...errors(400, 401, 403, 404, 409) } },
  }, async (request) => {
    checkMetadata(request.body.metadata);
    const project = await projectFor(db, request, request.params, 'write');
    return presentNode(await updateNode(db, project.id, request.params.id, request.body));
  });

  app.delete('/nodes/:id', {
    schema: { tags, summary: 'Soft-delete a node and its subtree; deleted files leave every collection', params: NodeParams, response: { 200: DeletedBody, ...errors(401, 403, 404) } },
  }, async (request) => {
    const project = await projectFor(db, request, request.params, 'write');
    return { success: true as const, deleted: await deleteSubtree(db, project.id, request.params.id) };
  });

  await app.register(contentRoutes, { ctx, blobs });
  await app.register(uploadRoutes, { ctx, blobs });
  await app.register(episodeRoutes, { ctx });
};
