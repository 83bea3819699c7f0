import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../core/context.js';
import { unauthorized } from '../core/errors.js';
import type { LakeDb } from './db.js';
import { createUserResolver, type LakeUser } from './users.js';

declare module 'fastify' {
  interface FastifyRequest {
    lakeUser?: LakeUser;
  }
}

/** Every DreamLake route needs a Bearer JWT; the verified user is put on the request. */
export function requireBearer(app: FastifyInstance, ctx: AppContext) {
  const ensureUser = createUserResolver(ctx.database.db as LakeDb);
  app.decorateRequest('lakeUser', undefined);
  app.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) throw unauthorized('Send Authorization: Bearer <token>.');
    request.lakeUser = await ensureUser(await ctx.verifyToken(match[1]));
  });
}

export function currentUser(request: FastifyRequest): LakeUser {
  if (!request.lakeUser) throw unauthorized();
  return request.lakeUser;
}
