import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { AppContext } from '../core/context.js';
import { unauthorized } from '../core/errors.js';
import type { LakeDb } from './db.js';
import { createUserResolver, type LakeUser } from './users.js';

declare module 'fastify' {
  interface FastifyRequest {
    lakeUser?: LakeUser;
  }
  interface FastifyContextConfig {
    /** The route's URLs carry their own signature instead of a Bearer token (signed part and download links). */
    signedUrl?: boolean;
  }
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** Every DreamLake route needs a Bearer JWT; the verified user is put on the request. */
export function requireBearer(app: FastifyInstance, ctx: AppContext) {
  const ensureUser = createUserResolver(ctx.database.db as LakeDb);
  app.decorateRequest('lakeUser', undefined);
  // Callback style with a synchronous path for a token and user seen before (nearly every request): an async
  // hook costs a promise and microtask turns per request, a noticeable part of a point read.
  const bearer: onRequestHookHandler = (request, _reply, done) => {
    const header = request.headers.authorization;
    const match = header ? BEARER.exec(header) : null;
    if (!match) return done(unauthorized('Send Authorization: Bearer <token>.'));
    const identity = ctx.verifyToken.cached(match[1]);
    const user = identity && ensureUser.known(identity);
    if (user) {
      request.lakeUser = user;
      return done();
    }
    ctx.verifyToken(match[1])
      .then(ensureUser)
      .then((resolved) => {
        request.lakeUser = resolved;
        done();
      }, done);
  };
  // Attached to each route as it is declared (not as a context hook), so that routes whose URLs carry their own
  // signature (config.signedUrl) go without it at no cost to the others.
  app.addHook('onRoute', (route) => {
    if (route.config?.signedUrl) return;
    const hooks = route.onRequest === undefined ? [] : [route.onRequest].flat();
    if (!hooks.includes(bearer)) route.onRequest = [bearer, ...hooks];
  });
}

export function currentUser(request: FastifyRequest): LakeUser {
  if (!request.lakeUser) throw unauthorized();
  return request.lakeUser;
}
