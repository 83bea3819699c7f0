import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScriptTestApp, DIALECTS, type ScriptTestApp } from './helpers.js';

// Dreamscript writes are serialized (one transaction-scoped lock per schema on PostgreSQL, SQLite's single
// writer), so its checks and writes cannot interleave. This holds it to that from two apps on one database.
const ROUNDS = 20;

for (const dialect of DIALECTS) {
  describe(`Dreamscript writes racing deletes (${dialect})`, () => {
    let s: ScriptTestApp;
    let peer: FastifyInstance;
    let key: string;
    beforeAll(async () => {
      s = await createScriptTestApp(dialect, { DREAMSCRIPT_RATE_LIMIT: '0' }); // races, not rate limits: a 429 is not what they look for
      peer = await s.peer();
      key = await s.key();
    });
    afterAll(() => s.close());

    it('a document created in a project racing the project delete: one of them wins, never both', async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const project = (await s.call(key, { method: 'POST', url: '/projects', payload: { name: `p${round}` } })).json().id as number;
        const [create, remove] = await Promise.all([
          s.call(key, { method: 'POST', url: '/documents', payload: { title: 't', projectId: project } }),
          peer.inject({ method: 'DELETE', url: `/dreamscript/projects/${project}`, headers: { 'x-api-key': key } }),
        ]);
        expect(create.statusCode, create.body).toBeLessThan(500);
        expect(remove.statusCode, remove.body).toBeLessThan(500);
        const created = create.statusCode === 201;
        const deleted = remove.statusCode < 300;
        expect(created !== deleted, `create ${create.statusCode}, delete ${remove.statusCode}`).toBe(true);
      }
    });

    it('documents pushed to a CouchDB database racing its deletion never live on in the deleted project', async () => {
      const orphans = (project: number) =>
        s.db
          .selectFrom('script_documents as d')
          .innerJoin('script_projects as p', 'p.id', 'd.project_id')
          .select('d.id')
          .where('d.project_id', '=', project)
          .where('d.deleted', '=', 0)
          .where('p.deleted_at', 'is not', null)
          .execute();
      for (let round = 0; round < ROUNDS; round++) {
        const db = `couch-race-${round}`;
        await s.couch(key, 'PUT', `/${db}`);
        const project = (await s.call(key, { method: 'GET', url: '/projects?limit=1000' })).json().find((p: { name: string }) => p.name === db).id as number;
        // The database goes as CouchDB deletes one, or (every other round) through the REST API while it is empty.
        const remove =
          round % 2
            ? peer.inject({ method: 'DELETE', url: `/dreamscript/projects/${project}`, headers: { 'x-api-key': key } })
            : peer.inject({ method: 'DELETE', url: `/dreamscript/couch/${db}`, headers: { 'x-api-key': key } });
        const pushes = Array.from({ length: 5 }, (_, i) => s.couch(key, 'PUT', `/${db}/doc-${i}`, { i }));
        const [removed, ...pushed] = await Promise.all([remove, ...pushes]);
        expect(removed.statusCode, removed.body).toBeLessThan(500);
        for (const p of pushed) expect([201, 404], p.body).toContain(p.statusCode);
        expect(await orphans(project), `round ${round}`).toEqual([]);
      }
    });

    it('PUT racing DELETE of one document: never a 5xx, and the document is then there or not', async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const doc = (await s.call(key, { method: 'POST', url: '/documents', payload: { title: 'a' } })).json() as { id: number; _rev: string };
        const [put, remove] = await Promise.all([
          s.call(key, { method: 'PUT', url: `/documents/${doc.id}`, payload: { title: 'b' } }),
          peer.inject({ method: 'DELETE', url: `/dreamscript/documents/${doc.id}`, headers: { 'x-api-key': key } }),
        ]);
        expect(put.statusCode, put.body).toBeLessThan(500);
        expect(remove.statusCode, remove.body).toBeLessThan(500);
        const after = await s.call(key, { method: 'GET', url: `/documents/${doc.id}` });
        expect([200, 404]).toContain(after.statusCode);
      }
    });
  });
}
