import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../../src/script/keys/repo.js';
import { scriptDb } from '../../src/script/db.js';
import { createTestApp, DIALECTS, type TestApp } from '../helpers/app.js';
import { labProject, type LabProject } from '../helpers/lake.js';

// A method a known path does not have is a 405 naming the ones it has (core/route-table.ts), in each API's error
// format; a path no route has stays a 404. Dreamspace answers its own 405s (test/space/protocol.test.ts).

for (const dialect of DIALECTS) {
  describe(`405 Method Not Allowed (${dialect})`, () => {
    let t: TestApp;
    let lab: LabProject;
    let key: string;
    beforeAll(async () => {
      t = await createTestApp(dialect);
      lab = await labProject(t);
      key = (await createKey(scriptDb(t.database), { admin: true })).secret;
    });
    afterAll(() => t.close());

    const couch = (method: string, url: string, payload?: string) =>
      t.inject({ method: method as 'GET', url: `/dreamscript/couch${url}`, headers: { 'x-api-key': key, 'content-type': 'application/json' }, ...(payload === undefined ? {} : { payload }) });

    it('DreamLake: a wrong method on a known path is a JSON 405 with Allow, and changes nothing', async () => {
      const projects = lab.base;
      const before = await t.inject({ method: 'GET', url: projects, headers: lab.alice });
      expect(before.statusCode).toBe(200);
      const res = await t.inject({ method: 'PUT', url: projects, headers: { ...lab.alice, 'content-type': 'application/json' }, payload: '{"name":"renamed"}' });
      expect(res.statusCode).toBe(405);
      expect(res.headers.allow).toBe('DELETE, GET, HEAD, PATCH');
      expect(res.json()).toEqual({ error: 'method_not_allowed', message: `PUT is not allowed on ${projects}; allowed: DELETE, GET, HEAD, PATCH.` });
      expect((await t.inject({ method: 'GET', url: projects, headers: lab.alice })).json()).toEqual(before.json());

      const me = await t.inject({ method: 'DELETE', url: '/auth/me', headers: lab.alice });
      expect(me.statusCode).toBe(405);
      expect(me.headers.allow).toBe('GET, HEAD');
      expect((await t.inject({ method: 'POST', url: '/health' })).headers.allow).toBe('GET, HEAD');
    });

    it('a path that no route has is still a 404, whatever the method', async () => {
      for (const [method, url] of [['PATCH', '/nothing/here'], ['GET', '/namespaces/alice/projects/x/y/z/w'], ['DELETE', '/dreamscript/nothing']] as const) {
        const res = await t.inject({ method, url, headers: lab.alice });
        expect(res.statusCode, `${method} ${url}`).toBe(404);
        expect(res.headers.allow).toBeUndefined();
        expect(res.json().error).toBe('not_found');
      }
      const res = await couch('DELETE', '/db/a/b/c/d/e/f/g');
      expect([400, 404]).toContain(res.statusCode);
      expect(res.headers.allow).toBeUndefined();
    });

    it('Dreamscript REST: JSON 405 with Allow', async () => {
      const res = await t.inject({ method: 'PATCH', url: '/dreamscript/projects', headers: { 'x-api-key': key } });
      expect(res.statusCode).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD, POST');
      expect(res.json().error).toBe('method_not_allowed');
    });

    it("CouchDB endpoint: CouchDB's 405 on the database's special paths, which no document route may take, and on databases and documents", async () => {
      expect((await couch('PUT', '/db1')).statusCode).toBe(201);
      expect((await couch('PUT', '/db1/doc', '{"a":1}')).statusCode).toBe(201);
      const cases: [string, string, string][] = [
        ['DELETE', '/db1/_all_docs', 'GET,HEAD,POST'],
        ['PUT', '/db1/_changes', 'GET,HEAD,POST'],
        ['GET', '/db1/_bulk_docs', 'POST'],
        ['PUT', '/db1/_bulk_get', 'POST'],
        ['DELETE', '/db1/_revs_diff', 'POST'],
        ['GET', '/db1/_ensure_full_commit', 'POST'],
        ['POST', '/db1/_revs_limit', 'GET,HEAD,PUT'],
        ['PATCH', '/db1', 'DELETE,GET,HEAD,POST,PUT'],
        ['PATCH', '/db1/doc', 'COPY,DELETE,GET,HEAD,PUT'],
      ];
      for (const [method, url, allow] of cases) {
        const res = await couch(method, url, method === 'GET' ? undefined : '{"docs":[{"_id":"x"}]}');
        expect(res.statusCode, `${method} ${url}`).toBe(405);
        expect(res.headers.allow).toBe(allow);
        expect(res.json()).toEqual({ error: 'method_not_allowed', reason: `Only ${allow} allowed` });
      }
      // None of them wrote anything: the database holds its one document.
      const all = (await couch('GET', '/db1/_all_docs')).json();
      expect(all.rows.map((r: { id: string }) => r.id)).toEqual(['doc']);
      // An unknown underscore name is still a 400 (a reserved document id), whatever the method: CouchDB's
      // illegal_docid for the writes that name it as a document's id (PUT, POST); and a missing database answers first.
      for (const method of ['GET', 'PUT', 'POST', 'DELETE', 'PATCH']) {
        const res = await couch(method, '/db1/_foo', method === 'GET' ? undefined : '{}');
        expect([res.statusCode, res.json().error], method).toEqual([400, method === 'PUT' || method === 'POST' ? 'illegal_docid' : 'bad_request']);
        expect(res.headers.allow).toBeUndefined();
      }
      // Design and _local documents name their own methods.
      expect((await couch('POST', '/db1/_design/app', '{}')).headers.allow).toBe('COPY,DELETE,GET,HEAD,PUT');
      expect((await couch('POST', '/db1/_local/checkpoint', '{}')).headers.allow).toBe('DELETE,GET,HEAD,PUT');
      expect((await couch('DELETE', '/nodb/_all_docs')).statusCode).toBe(404);
    });
  });
}
