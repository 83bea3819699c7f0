import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { notFound } from '../../core/errors.js';
import { assertAdmin } from '../access/policy.js';
import { currentKey } from '../access/authenticate.js';
import type { ScriptContext } from '../context.js';
import { cursorAfter, ListQuery, NEXT_HEADER, pageOf } from '../paging.js';
import { BODY_ERRORS, ERRORS } from '../schemas.js';
import { presentKey } from './present.js';
import * as repo from './repo.js';
import { CreatedKey, Key, KeyParams, NewKeyBody } from './schemas.js';

const tags = ['Dreamscript: keys'];

/**
 * `GET /key`: the key this request carries (never its secret), for any live key, so a client can tell what it may
 * do before trying: its scope, read-only, admin. Authentication already read it: no query of its own.
 */
export const ownKeyRoute: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/key', {
    schema: { tags, summary: 'The API key this request carries: its scope and permissions (never its secret)', response: { 200: Key, ...ERRORS } },
  }, async (request) => presentKey(currentKey(request)));
};

/** Key management, for admin keys only. Rotation: create the new key, move clients over, revoke the old. */
export const keyRoutes: FastifyPluginAsyncTypebox<{ sc: ScriptContext }> = async (app, { sc }) => {
  // Before body validation: a non-admin learns nothing about what a valid request would be.
  app.addHook('onRequest', async (request) => assertAdmin(currentKey(request)));

  app.get('/keys', {
    schema: { tags, summary: 'Live API keys (never their secrets)', querystring: ListQuery, response: { 200: { ...Type.Array(Key), headers: NEXT_HEADER }, ...ERRORS } },
  }, async (request, reply) => {
    const { limit = 50, cursor } = request.query;
    const keys = await repo.listKeys(sc.db, cursorAfter(sc.cursors, 'keys', cursor), limit + 1);
    return pageOf(sc.cursors, request, reply, 'keys', keys, limit, (k) => k.id).map(presentKey);
  });

  app.post('/keys', {
    schema: { tags, summary: 'Create an API key; its secret is in this answer only', body: NewKeyBody, response: { 201: CreatedKey, ...ERRORS, ...BODY_ERRORS } },
  }, async (request, reply) => {
    const { key, secret } = await repo.createKey(sc.db, request.body);
    return reply.status(201).send({ ...presentKey(key), key: secret });
  });

  app.delete('/keys/:keyId', {
    schema: { tags, summary: 'Revoke an API key (at once, on every replica)', params: KeyParams, response: { 204: Type.Null(), ...ERRORS } },
  }, async (request, reply) => {
    if (!(await repo.revokeKey(sc.db, request.params.keyId))) throw notFound(`Key ${request.params.keyId} was not found.`);
    return reply.status(204).send(null);
  });
};
