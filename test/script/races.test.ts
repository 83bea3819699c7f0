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
      s = await createScriptTestApp(dialect);
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
