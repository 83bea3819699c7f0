import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../core/context.js';
import { pageEnvelope, PageQuery, toPage } from '../../core/pagination.js';
import type { LakeDb } from '../db.js';
import { projectFor } from '../nodes/access.js';
import { deleteSubtree } from '../nodes/remove.js';
import { DeletedBody } from '../nodes/schemas.js';
import { checkMetadata, errors, ProjectParams } from '../schemas.js';
import { presentEpisode } from './present.js';
import * as repo from './repo.js';
import { EpisodeBody, EpisodeList, EpisodeParams, UpdateEpisode, UpsertEpisode } from './schemas.js';

const tags = ['DreamLake: episodes'];

/** Episodes: nodes of kind `episode`, addressed by their name (unique in a project). */
export const episodeRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, { ctx }) => {
  const db = ctx.database.db as LakeDb;

  app.post('/episodes', {
    schema: { tags, summary: 'Create an episode (201) or update the one of that name (200)', params: ProjectParams, body: UpsertEpisode, response: { 200: EpisodeBody, 201: EpisodeBody, ...errors(400, 401, 403, 404, 409) } },
  }, async (request, reply) => {
    checkMetadata(request.body.metadata);
    const project = await projectFor(db, request, request.params, 'write');
    const { row, created } = await repo.upsertEpisode(db, project.id, request.body);
    return reply.status(created ? 201 : 200).send(presentEpisode(row, project.slug));
  });

  app.get('/episodes', {
    schema: { tags, summary: 'Episodes of a project, newest first', params: ProjectParams, querystring: PageQuery, response: { 200: EpisodeList, ...errors(400, 401, 404) } },
  }, async (request) => {
    const project = await projectFor(db, request, request.params);
    const page = toPage(request.query);
    const { rows, total } = await repo.listEpisodes(db, project.id, page);
    return { episodes: rows.map((row) => presentEpisode(row, project.slug)), ...pageEnvelope(page, total) };
  });

  app.get('/episodes/:name', {
    schema: { tags, summary: 'An episode', params: EpisodeParams, response: { 200: EpisodeBody, ...errors(401, 404) } },
  }, async (request) => {
    const project = await projectFor(db, request, request.params);
    return presentEpisode(await repo.getEpisode(db, project.id, request.params.name), project.slug);
  });

  app.patch('/episodes/:name', {
    schema: { tags, summary: 'Change an episode (rename, move to another folder, status, …)', params: EpisodeParams, body: UpdateEpisode, response: { 200: EpisodeBody, ...errors(400, 401, 403, 404, 409) } },
  }, async (request) => {
    checkMetadata(request.body.metadata);
    const project = await projectFor(db, request, request.params, 'write');
    return presentEpisode(await repo.updateEpisode(db, project.id, request.params.name, request.body), project.slug);
  });

  app.delete('/episodes/:name', {
    schema: { tags, summary: 'Soft-delete an episode and everything in it', params: EpisodeParams, response: { 200: DeletedBody, ...errors(401, 403, 404) } },
  }, async (request) => {
    const project = await projectFor(db, request, request.params, 'write');
    const episode = await repo.getEpisode(db, project.id, request.params.name);
    return { success: true as const, deleted: await deleteSubtree(db, project.id, episode.id) };
  });
};
