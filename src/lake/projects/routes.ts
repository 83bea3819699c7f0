import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../core/context.js';
import { pageEnvelope, PageQuery, toPage } from '../../core/pagination.js';
import { currentUser } from '../auth.js';
import type { LakeDb } from '../db.js';
import { ensureAllowed } from '../policies.js';
import { checkMetadata, errors, NamespaceParams, ProjectParams, SuccessBody } from '../schemas.js';
import { resolveNamespace, resolveProject } from '../scope.js';
import { presentProject } from './present.js';
import * as repo from './repo.js';
import { CreateProject, ProjectBody, projectList, UpdateProject } from './schemas.js';

/** Registered twice: under `/projects` and under its alias `/spaces`; lists answer with the matching key. */
export const projectRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext; alias: 'projects' | 'spaces' }> = async (app, { ctx, alias }) => {
  const db = ctx.database.db as LakeDb;
  const tags = [`DreamLake: ${alias}`];

  app.get('/', {
    schema: { tags, summary: `List ${alias} in a namespace`, params: NamespaceParams, querystring: PageQuery, response: { 200: projectList(alias), ...errors(400, 401, 404) } },
  }, async (request, reply) => {
    const page = toPage(request.query);
    const userId = currentUser(request).id;
    const { slug } = request.params;
    return ctx.responses.send(reply, userId, async () => {
      const { rows, total } = await repo.listProjects(db, userId, slug, page);
      return { [alias]: rows.map(presentProject), ...pageEnvelope(page, total) };
    });
  });

  app.post('/', {
    schema: { tags, summary: 'Create a project', params: NamespaceParams, body: CreateProject, response: { 201: ProjectBody, ...errors(400, 401, 403, 404, 409) } },
  }, async (request, reply) => {
    checkMetadata(request.body.metadata);
    const { namespace, role } = await resolveNamespace(db, currentUser(request).id, request.params.slug);
    ensureAllowed(role, 'write');
    return reply.status(201).send(presentProject(await repo.createProject(db, namespace.id, request.body)));
  });

  app.get('/:projectSlug', {
    schema: { tags, summary: 'Get a project', params: ProjectParams, response: { 200: ProjectBody, ...errors(401, 404) } },
  }, async (request, reply) => {
    const userId = currentUser(request).id;
    const { slug, projectSlug } = request.params;
    return ctx.responses.send(reply, userId, async () => {
      const { project } = await resolveProject(db, userId, slug, projectSlug);
      return presentProject(project);
    });
  });

  app.patch('/:projectSlug', {
    schema: { tags, summary: 'Update a project (only given fields change; a new slug retires the old one)', params: ProjectParams, body: UpdateProject, response: { 200: ProjectBody, ...errors(400, 401, 403, 404, 409) } },
  }, async (request) => {
    checkMetadata(request.body.metadata);
    const { project, role } = await resolveProject(db, currentUser(request).id, request.params.slug, request.params.projectSlug);
    ensureAllowed(role, 'write');
    return presentProject(await repo.updateProject(db, project, request.body));
  });

  app.delete('/:projectSlug', {
    schema: { tags, summary: 'Soft-delete a project', params: ProjectParams, response: { 200: SuccessBody, ...errors(401, 403, 404) } },
  }, async (request) => {
    const { project, role } = await resolveProject(db, currentUser(request).id, request.params.slug, request.params.projectSlug);
    ensureAllowed(role, 'write');
    await repo.deleteProject(db, project);
    return { success: true as const };
  });
};
