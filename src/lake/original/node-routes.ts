import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../core/context.js';
import { pageEnvelope, toPage, type Page } from '../../core/pagination.js';
import { currentUser } from '../auth.js';
import type { LakeDb, NodesTable, ProjectsTable } from '../db.js';
import { episodeNotFound } from '../episodes/repo.js';
import { parseNodePath } from '../nodes/paths.js';
import { listBelow, lookupPath } from '../nodes/queries.js';
import { deleteSubtree } from '../nodes/remove.js';
import { findEpisode, notAFolder } from '../nodes/tree.js';
import { deleteProject } from '../projects/repo.js';
import { errors } from '../schemas.js';
import { presentOriginalNodes, presentProjectRoot } from './node-dialect.js';
import {
  ContentsBody,
  ContentsQuery,
  CreateOriginalNode,
  DeletedBody,
  IdParams,
  ListQuery,
  LookupQuery,
  NodeListBody,
  OriginalNode,
  ScopeQuery,
} from './node-schemas.js';
import { nodeById, projectByParams } from './node-scope.js';
import { checkCreate, createFromRegistered } from './node-writes.js';

const tags = ['DreamLake: original clients'];

/**
 * The original DreamLake clients' flat node routes (ORIGINAL-CLIENT-PROTOCOL.md): scoped by `namespace` and
 * `project` parameters or by a node ID, translated onto the same tree code, tenancy and locks as the
 * project-scoped routes, and answered in the clients' dialect (node-dialect.ts).
 */
export const originalNodeRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, { ctx }) => {
  const db = ctx.database.db as LakeDb;

  app.post('/nodes', {
    schema: { tags, summary: 'Create a file node by path from registered content (POST /files); missing folders and the episode are made; the same path keeps its node ID', body: CreateOriginalNode, response: { 200: OriginalNode, 201: OriginalNode, ...errors(400, 401, 403, 404, 409) } },
  }, async (request, reply) => {
    checkCreate(request.body); // 400s before the project lookup
    const project = await projectByParams(db, request, request.body, 'write');
    const { node, created } = await createFromRegistered(db, currentUser(request).id, project.id, request.body);
    return reply.status(created ? 201 : 200).send(await present(db, project, node));
  });

  app.get('/nodes/lookup', {
    schema: { tags, summary: 'One node by path in a project or episode ("/" = the project or the episode itself)', querystring: LookupQuery, response: { 200: OriginalNode, ...errors(400, 401, 404) } },
  }, async (request) => {
    const { path, episode: episodeName } = request.query;
    const segments = parseNodePath(path);
    const project = await projectByParams(db, request, request.query, 'read');
    const episode = episodeName === undefined ? undefined : await episodeOf(db, project.id, episodeName);
    if (!segments.length) return episode ? present(db, project, episode) : presentProjectRoot(project);
    const base = episode ? parseNodePath(episode.path) : [];
    return present(db, project, await lookupPath(db, project.id, [...base, ...segments]));
  });

  app.get('/nodes', {
    schema: { tags, summary: 'Nodes below a project or episode, in path order, filtered by kind and path prefix', querystring: ListQuery, response: { 200: NodeListBody, ...errors(400, 401, 404) } },
  }, async (request) => {
    const { kind, prefix, episode: episodeName } = request.query;
    const project = await projectByParams(db, request, request.query, 'read');
    const base = episodeName === undefined ? '' : (await episodeOf(db, project.id, episodeName)).path;
    const page = toPage(request.query);
    const relative = prefix === undefined || prefix === '' ? undefined : prefix.startsWith('/') ? prefix : `/${prefix}`;
    const { rows, total } = await listBelow(db, project.id, base, { kind, prefix: relative && base + relative }, page);
    return { nodes: await presentOriginalNodes(db, project, rows), ...pageEnvelope(page, total) };
  });

  app.get('/nodes/:id', {
    schema: { tags, summary: 'A node by ID (a project ID answers its root)', params: IdParams, querystring: ScopeQuery, response: { 200: OriginalNode, ...errors(401, 404) } },
  }, async (request) => {
    const { project, node } = await nodeById(db, request, request.params.id, request.query, 'read');
    return node ? present(db, project, node) : presentProjectRoot(project);
  });

  app.get('/nodes/:id/contents', {
    schema: { tags, summary: 'Every file below a folder, episode or project (by its ID), recursively, in path order', params: IdParams, querystring: ContentsQuery, response: { 200: ContentsBody, ...errors(400, 401, 404) } },
  }, async (request) => {
    const { project, node } = await nodeById(db, request, request.params.id, request.query, 'read');
    if (node && Number(node.leaf) === 1) throw notAFolder(node.path);
    const page = contentsPage(request.query);
    const { rows, total } = await listBelow(db, project.id, node?.path ?? '', { leavesOnly: true, kind: request.query.kind }, page);
    const envelope = pageEnvelope(page, total);
    return { files: await presentOriginalNodes(db, project, rows), filePageCount: envelope.totalPages, ...envelope };
  });

  app.delete('/nodes/:id', {
    schema: { tags, summary: 'Soft-delete a node and its subtree; a project ID deletes the project', params: IdParams, querystring: ScopeQuery, response: { 200: DeletedBody, ...errors(401, 403, 404) } },
  }, async (request) => {
    const { project, node } = await nodeById(db, request, request.params.id, request.query, 'write');
    if (node) return { success: true as const, deleted: await deleteSubtree(db, project.id, node.id) };
    return { success: true as const, deleted: await deleteWholeProject(db, project) };
  });
};

async function present(db: LakeDb, project: ProjectsTable, node: NodesTable) {
  const [presented] = await presentOriginalNodes(db, project, [node]);
  return presented;
}

async function episodeOf(db: LakeDb, projectId: string, name: string): Promise<NodesTable> {
  const episode = await findEpisode(db, projectId, name);
  if (!episode) throw episodeNotFound(name);
  return episode;
}

/** Contents pages go up to 500 files (what the original clients ask for), beyond the usual 200. */
function contentsPage(query: { page?: number; pageSize?: number }): Page {
  const page = query.page ?? 1;
  const pageSize = query.pageSize ?? 100;
  return { page, pageSize, limit: pageSize, offset: (page - 1) * pageSize };
}

/** Deletes a project by its root node ID: answers the project and its live nodes, counted. */
async function deleteWholeProject(db: LakeDb, project: ProjectsTable): Promise<number> {
  const { n } = await db
    .selectFrom('nodes')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('project_id', '=', project.id)
    .where('deleted_at', 'is', null)
    .executeTakeFirstOrThrow();
  await deleteProject(db, project);
  return Number(n) + 1;
}
