import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { ScriptContext } from '../context.js';
import { currentKey } from '../access/authenticate.js';
import { unauthorized } from '../../core/errors.js';
import { isKeyLive } from '../keys/repo.js';
import { Limit } from '../paging.js';
import { ERRORS, Int64 } from '../schemas.js';
import { lastSeq, readChanges } from './repo.js';

const tags = ['Dreamscript: changes'];
export const MAX_TIMEOUT_MS = 60_000;

const ChangesQuery = Type.Object(
  {
    since: Type.Optional(Type.String({ pattern: '^(now|0|[1-9][0-9]{0,14})$', default: '0', description: 'A last_seq, or now' })),
    limit: Type.Optional(Limit),
    feed: Type.Optional(Type.Union([Type.Literal('normal'), Type.Literal('longpoll')], { default: 'normal' })),
    timeout: Type.Optional(
      Type.Integer({ minimum: 0, maximum: MAX_TIMEOUT_MS, default: MAX_TIMEOUT_MS, description: 'Longpoll wait in ms' }),
    ),
  },
  { additionalProperties: false },
);

const ChangesBody = Type.Object({
  results: Type.Array(
    Type.Object({ seq: Int64, id: Int64, _rev: Type.String(), deleted: Type.Optional(Type.Boolean()) }),
  ),
  last_seq: Int64,
});

export const changeRoutes: FastifyPluginAsyncTypebox<{ sc: ScriptContext }> = async (app, { sc }) => {
  app.get('/changes', {
    schema: {
      tags,
      summary: 'Document changes after a sequence number; feed=longpoll waits for the next one',
      querystring: ChangesQuery,
      response: { 200: ChangesBody, ...ERRORS },
    },
  }, async (request, reply) => {
    const key = currentKey(request);
    const { limit = 50, feed = 'normal', timeout = MAX_TIMEOUT_MS } = request.query;
    const scope = key.projects;
    // The pattern keeps numbers below 2^53.
    const since = request.query.since === 'now' ? await lastSeq(sc.db) : Number(request.query.since ?? 0);
    const answer = (results: Awaited<ReturnType<typeof readChanges>>) => ({
      results,
      last_seq: results.length ? results[results.length - 1].seq : since,
    });
    if (feed === 'normal') return answer(await readChanges(sc.db, since, limit, scope));

    // Watch before reading, and hold no database connection while waiting.
    const waiter = await sc.changes.watch();
    const gone = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableFinished) gone.abort();
    };
    reply.raw.on('close', onClose);
    try {
      const deadline = Date.now() + timeout;
      let results = await readChanges(sc.db, since, limit, scope);
      let waited = false;
      while (results.length === 0 && (await waiter.next(deadline - Date.now(), gone.signal))) {
        waited = true;
        results = await readChanges(sc.db, since, limit, scope);
      }
      // A key revoked while it waited sees no later change (looked at only when there is one to answer).
      if (waited && results.length && !(await isKeyLive(sc.db, key.id))) throw unauthorized('Unknown or revoked API key.');
      return answer(results);
    } finally {
      reply.raw.off('close', onClose);
      waiter.dispose();
    }
  });
};
