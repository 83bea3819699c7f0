import type { FastifyPluginAsync } from 'fastify';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { currentKey } from '../access/authenticate.js';
import { assertWritable } from '../access/policy.js';
import type { ScriptContext } from '../context.js';
import { writeTransaction } from '../db.js';
import { toAppError } from '../../core/errors.js';
import { allDatabases, createDatabase, databaseInfo, deleteDatabase, openDatabase, serverUuid } from './databases.js';
import { badRequest, couchError } from './errors.js';
import { dbOf, flag, intParam, jsonBody, objectBody, type DbParams, type Query } from './http.js';
import { purgeDocs } from './purge.js';

/** Databases one _dbs_info request may name (CouchDB's max_db_number_for_dbs_info_req). */
const DBS_INFO_LIMIT = 100;

/** The server root, databases, and the maintenance calls replicators make. */
export const databaseRoutes: FastifyPluginAsync<{ sc: ScriptContext }> = async (app, { sc }) => {
  const PUBLIC = { config: { public: true } };

  app.get('/', PUBLIC, async () => ({
    couchdb: 'Welcome',
    version: '3.3.3',
    git_sha: '40afbcfc7',
    uuid: await serverUuid(sc.db),
    features: [],
    vendor: { name: 'DreamLake' },
  }));
  app.get('/_up', PUBLIC, async () => ({ status: 'ok' }));
  app.get('/_uuids', PUBLIC, async (request) => {
    const count = intParam(request.query as Query, 'count', 1) ?? 1;
    if (count > 1000) throw badRequest('count may be at most 1000.');
    return { uuids: Array.from({ length: count }, () => randomUUID().replace(/-/g, '')) };
  });
  app.get('/_session', async (request) => ({
    ok: true,
    userCtx: { name: currentKey(request).name ?? currentKey(request).prefix, roles: [] },
    info: { authentication_handlers: ['default'], authenticated: 'default' },
  }));
  app.get('/_all_dbs', async (request) => allDatabases(sc.db, currentKey(request)));
  // The info of several databases at once (CouchDB 3.2+): those named in the body, or, by GET, every one the key
  // sees, in _all_dbs order.
  app.post('/_dbs_info', async (request) => {
    const keys = objectBody(request).keys;
    if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) throw badRequest('`keys` member must exist and be a list of strings.');
    if (keys.length > DBS_INFO_LIMIT) throw badRequest(`\`keys\` member list is too long (at most ${DBS_INFO_LIMIT}).`);
    return dbsInfo(keys as string[], currentKey(request));
  });
  app.get('/_dbs_info', async (request) => {
    const q = request.query as Query;
    const names = await allDatabases(sc.db, currentKey(request));
    const ordered = flag(q.descending) ? names.reverse() : names;
    const skip = intParam(q, 'skip') ?? 0;
    return dbsInfo(ordered.slice(skip, skip + Math.min(intParam(q, 'limit') ?? DBS_INFO_LIMIT, DBS_INFO_LIMIT)), currentKey(request));
  });
  const dbsInfo = async (names: string[], key: ReturnType<typeof currentKey>) => {
    const out = [];
    for (const name of names) {
      try {
        out.push({ key: name, info: await databaseInfo(sc.db, await openDatabase(sc.db, key, name)) });
      } catch (err) {
        const e = toAppError(err);
        if (e.status >= 500) throw err;
        out.push({ key: name, error: e.status === 403 ? 'forbidden' : 'not_found' });
      }
    }
    return out;
  };

  for (const path of ['/:db', '/:db/']) {
    app.get<{ Params: DbParams }>(path, async (request) => databaseInfo(sc.db, (await dbOf(sc, request)).target));
    app.put<{ Params: DbParams }>(path, async (request, reply) => {
      await createDatabase(sc, currentKey(request), request.params.db);
      return reply.status(201).send({ ok: true });
    });
    app.delete<{ Params: DbParams }>(path, async (request) => {
      await deleteDatabase(sc, currentKey(request), request.params.db);
      return { ok: true };
    });
  }

  app.post<{ Params: DbParams }>('/:db/_ensure_full_commit', async (request, reply) => {
    await dbOf(sc, request);
    return reply.status(201).send({ ok: true, instance_start_time: '0' });
  });

  app.post<{ Params: DbParams }>('/:db/_purge', async (request, reply) => {
    const { key, target } = await dbOf(sc, request);
    const purged = await purgeDocs(sc, key, target, objectBody(request));
    // CouchDB 3's answer: the purge sequence is not exposed (null).
    return reply.status(201).send({ purge_seq: null, purged });
  });

  // Compaction: non-leaf revisions keep their ids in the tree and lose their bodies (DECISIONS).
  app.post<{ Params: DbParams }>('/:db/_compact', async (request, reply) => {
    const { key, target } = await dbOf(sc, request);
    assertWritable(key);
    await writeTransaction(sc.db, async (trx) => {
      const docs = trx.selectFrom('script_documents').select('id').where('project_id', '=', target.projectId);
      await trx
        .updateTable('script_revisions')
        .set({ pruned: 1, body: null, content: null, title: '', attachments: null })
        .where('pruned', '=', 0)
        .where('document_id', 'in', docs)
        .where(sql<boolean>`exists (select 1 from script_revisions c where c.document_id = script_revisions.document_id and c.parent = script_revisions.rev)`)
        .execute();
      await trx
        .deleteFrom('script_attachment_refs')
        .where('document_id', 'in', docs)
        .where(sql<boolean>`not exists (select 1 from script_revisions r where r.document_id = script_attachment_refs.document_id and r.rev = script_attachment_refs.rev and r.pruned = 0)`)
        .execute();
    });
    return reply.status(202).send({ ok: true });
  });

  // There are no view indexes to clean up (the server runs no views); PouchDB's viewCleanup() asks anyway.
  app.post<{ Params: DbParams }>('/:db/_view_cleanup', async (request, reply) => {
    assertWritable((await dbOf(sc, request)).key);
    return reply.status(202).send({ ok: true });
  });

  app.get<{ Params: DbParams }>('/:db/_revs_limit', async (request) => (await dbOf(sc, request)).target.revsLimit);
  app.put<{ Params: DbParams }>('/:db/_revs_limit', async (request) => {
    const { key, target } = await dbOf(sc, request);
    assertWritable(key);
    const limit = jsonBody(request);
    if (!Number.isSafeInteger(limit) || (limit as number) < 1) throw badRequest('_revs_limit must be a positive integer.');
    await writeTransaction(sc.db, (trx) =>
      trx.updateTable('script_projects').set({ revs_limit: limit as number }).where('id', '=', target.projectId).execute(),
    );
    return { ok: true };
  });

  app.get<{ Params: DbParams }>('/:db/_security', async (request) => {
    await dbOf(sc, request);
    return { admins: { names: [], roles: [] }, members: { names: [], roles: [] } };
  });
  app.put('/:db/_security', async () => {
    throw couchError(403, 'forbidden', 'Access is set by API keys and their scopes, not by _security.');
  });
};
