import type { FastifyInstance, FastifyRequest } from 'fastify';
import { tooManyRequests, unauthorized } from '../../core/errors.js';
import type { ScriptContext } from '../context.js';
import { findKeyBySecret, type ScriptKey } from '../keys/repo.js';

declare module 'fastify' {
  interface FastifyRequest {
    scriptKey?: ScriptKey;
  }
}

/** The live key holding `secret`, after its rate limit: a 401 when there is none, a 429 when it must wait. */
export async function keyForSecret(sc: ScriptContext, secret: string): Promise<ScriptKey> {
  const key = await findKeyBySecret(sc.db, secret);
  if (!key) throw unauthorized('Unknown or revoked API key.');
  const wait = sc.limiter?.take(key.id) ?? 0;
  if (wait > 0) throw tooManyRequests(wait);
  return key;
}

/**
 * Every Dreamscript route needs `X-API-Key`: a missing, unknown or revoked key is a 401, checked before
 * anything else (body included); then the key's rate limit applies.
 */
export function requireApiKey(app: FastifyInstance, sc: ScriptContext) {
  app.addHook('onRequest', async (request) => {
    const secret = request.headers['x-api-key'];
    if (typeof secret !== 'string' || secret === '') throw unauthorized('Send your API key in the X-API-Key header.');
    request.scriptKey = await keyForSecret(sc, secret);
  });
}

export function currentKey(request: FastifyRequest): ScriptKey {
  if (!request.scriptKey) throw unauthorized();
  return request.scriptKey;
}
