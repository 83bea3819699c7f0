import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { assertProjectAccess, assertUnscoped, assertWritable } from '../access/policy.js';
import { currentKey } from '../access/authenticate.js';
import type { ScriptContext } from '../context.js';
import { cursorAfter, ListQuery, NEXT_HEADER, pageOf } from '../paging.js';
import { BODY_ERRORS, ERRORS, ErrorBody } from '../schemas.js';
import { presentProject } from './present.js';
import * as repo from './repo.js';
import { NewProject, Project, ProjectParams, ProjectPatch } from './schemas.js';

const tags = ['Dreamscript: projects'];

export const projectRoutes: FastifyPluginAsyncTypebox<{ sc: ScriptContext }> = async (app, { sc }) => {
  app.get('/projects', {
    schema: {
      tags,
      summary: 'Projects the key may see, oldest first; x-next leads to the next page',
      querystring: ListQuery,
      response: { 200: { ...Type.Array(Project), headers: NEXT_HEADER }, ...ERRORS },
    },
  }, async (request, reply) => {
    const { limit = 50, cursor } = request.query;
    const rows = await repo.listProjects(sc.db, cursorAfter(sc.cursors, 'projects', cursor), limit + 1, currentKey(request).projects);
    return pageOf(sc.cursors, request, reply, 'projects', rows, limit, (r) => r.id).map(presentProject);
  });

  app.post('/projects', {
    schema: { tags, summary: 'Create a project (not with a key limited to projects)', body: NewProject, response: { 201: Project, ...ERRORS, ...BODY_ERRORS } },
  }, async (request, reply) => {
    const key = currentKey(request);
    assertWritable(key);
    assertUnscoped(key, 'create projects');
    const row = await repo.createProject(sc.db, request.body);
    return reply.status(201).header('location', `${request.url.split('?')[0]}/${row.id}`).send(presentProject(row));
  });

  app.get('/projects/:projectId', {
    schema: { tags, summary: 'A project', params: ProjectParams, response: { 200: Project, ...ERRORS } },
  }, async (request) => {
    assertProjectAccess(currentKey(request), request.params.projectId);
    return presentProject(await repo.findProject(sc.db, request.params.projectId));
  });

  app.patch('/projects/:projectId', {
    schema: {
      tags,
      summary: 'Change a project’s name or description (not with a key limited to projects)',
      params: ProjectParams,
      body: ProjectPatch,
      response: { 200: Project, ...ERRORS, ...BODY_ERRORS },
    },
  }, async (request) => {
    const key = currentKey(request);
    assertWritable(key);
    // A key limited to projects writes documents inside them, never the projects themselves.
    assertUnscoped(key, 'rename or delete projects');
    return presentProject(await repo.updateProject(sc.db, request.params.projectId, request.body));
  });

  app.delete('/projects/:projectId', {
    schema: {
      tags,
      summary: 'Delete an empty project (409 while it holds documents; not with a key limited to projects)',
      params: ProjectParams,
      response: { 204: Type.Null(), ...ERRORS, 409: ErrorBody },
    },
  }, async (request, reply) => {
    const key = currentKey(request);
    assertWritable(key);
    assertUnscoped(key, 'rename or delete projects');
    await repo.deleteProject(sc.db, request.params.projectId);
    return reply.status(204).send(null);
  });
};
