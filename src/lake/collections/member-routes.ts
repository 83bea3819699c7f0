import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../core/context.js';
import { currentUser } from '../auth.js';
import type { LakeDb } from '../db.js';
import { ensureAllowed } from '../policies.js';
import { errors } from '../schemas.js';
import { wantsMinimal } from './prefer.js';
import { findCollection } from './queries.js';
import * as repo from './repo.js';
import { AddedBody, AddMembers, CollectionParams, PreferHeaders, RemovedBody, RemoveMembers } from './schemas.js';

const tags = ['DreamLake: collections'];

/** POST|DELETE …/collections/:name/members; `Prefer: return=minimal` leaves out the full member list. */
export const memberRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, { ctx }) => {
  const db = ctx.database.db as LakeDb;

  app.post('/:name/members', {
    schema: { tags, summary: 'Add members (merged, de-duplicated, appended in the order given)', params: CollectionParams, headers: PreferHeaders, body: AddMembers, response: { 200: AddedBody, ...errors(400, 401, 403, 404) } },
  }, async (request, reply) => {
    const { slug, projectSlug, name } = request.params;
    const { collection, role } = await findCollection(db, currentUser(request).id, slug, projectSlug, name, false);
    ensureAllowed(role, 'write');
    const change = await repo.addMembers(db, collection, request.body.add, !wantsMinimal(request, reply));
    return { ...(change.members ? { members: change.members } : {}), added: change.count, total: change.total };
  });

  app.delete('/:name/members', {
    schema: { tags, summary: 'Remove members (IDs that are not members are ignored)', params: CollectionParams, headers: PreferHeaders, body: RemoveMembers, response: { 200: RemovedBody, ...errors(400, 401, 403, 404) } },
  }, async (request, reply) => {
    const { slug, projectSlug, name } = request.params;
    const { collection, role } = await findCollection(db, currentUser(request).id, slug, projectSlug, name, false);
    ensureAllowed(role, 'write');
    const change = await repo.removeMembers(db, collection, request.body.remove, !wantsMinimal(request, reply));
    return { ...(change.members ? { members: change.members } : {}), removed: change.count, total: change.total };
  });
};
