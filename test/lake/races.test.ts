import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DIALECTS, type TestApp } from '../helpers/app.js';
import { labProject, type LabProject } from '../helpers/lake.js';

// DreamLake writes that check something and then write, racing the delete of what they checked, fired at
// the same time from two apps on one database (two server processes). Never a 5xx, and never a row that
// points at something deleted: a collection in a deleted dataset, a member that is a deleted file.
const ROUNDS = 20;

for (const dialect of DIALECTS) {
  describe(`DreamLake writes racing deletes (${dialect})`, () => {
    let t: TestApp;
    let peer: FastifyInstance;
    let lab: LabProject;
    beforeAll(async () => {
      t = await createTestApp(dialect);
      peer = await t.peer();
      lab = await labProject(t);
    });
    afterAll(() => t.close());

    const call = (app: FastifyInstance | TestApp, method: string, url: string, payload?: object) =>
      app.inject({ method: method as 'GET', url, headers: lab.alice, ...(payload ? { payload } : {}) });
    let n = 0;
    const dataset = async () => {
      const res = await call(t, 'POST', `${lab.base}/datasets`, { name: `ds-${n++}` });
      expect(res.statusCode).toBe(201);
      return res.json() as { id: string; name: string };
    };

    it('PATCH a collection into a dataset racing the dataset delete: the collection ends up standalone', async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const ds = await dataset();
        const name = `c-${n++}`;
        expect((await call(t, 'POST', `${lab.base}/collections`, { name })).statusCode).toBe(201);
        const [write, remove] = await Promise.all([
          call(t, 'PATCH', `${lab.base}/collections/${name}`, { datasetId: ds.id }),
          call(peer, 'DELETE', `${lab.base}/datasets/${ds.name}`),
        ]);
        expect([200, 404], write.body).toContain(write.statusCode);
        expect(remove.statusCode, remove.body).toBe(200);
        expect((await call(t, 'GET', `${lab.base}/collections/${name}`)).json().datasetId).toBeNull();
      }
    });

    it('POST a collection into a dataset racing the dataset delete: 201 standalone or 404', async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const ds = await dataset();
        const name = `c-${n++}`;
        const [write, remove] = await Promise.all([
          call(t, 'POST', `${lab.base}/collections`, { name, datasetId: ds.id }),
          call(peer, 'DELETE', `${lab.base}/datasets/${ds.name}`),
        ]);
        expect([201, 404], write.body).toContain(write.statusCode);
        expect(remove.statusCode, remove.body).toBe(200);
        if (write.statusCode === 201) expect((await call(t, 'GET', `${lab.base}/collections/${name}`)).json().datasetId).toBeNull();
      }
    });

    it('adding a file to a collection racing the file delete: no member is a deleted file', async () => {
      const name = `members-${n++}`;
      expect((await call(t, 'POST', `${lab.base}/collections`, { name })).statusCode).toBe(201);
      for (let round = 0; round < ROUNDS; round++) {
        const file = await t.inject({ method: 'PUT', url: `${lab.base}/files/race/${round}.txt`, headers: { ...lab.alice, 'content-type': 'text/plain' }, payload: 'x' });
        expect(file.statusCode).toBeLessThan(300);
        const id = file.json().id as string;
        const [add, remove] = await Promise.all([
          call(t, 'POST', `${lab.base}/collections/${name}/members`, { add: [id] }),
          call(peer, 'DELETE', `${lab.base}/nodes/${id}`),
        ]);
        expect([200, 400], add.body).toContain(add.statusCode);
        expect(remove.statusCode, remove.body).toBe(200);
        const members = (await call(t, 'GET', `${lab.base}/collections/${name}`)).json().members as string[];
        expect(members).not.toContain(id);
      }
    });

    it('deleting one project or namespace twice at once (project and flat routes): one 200, the other 404', async () => {
      const statuses = (pair: { statusCode: number }[]) => pair.map((r) => r.statusCode).sort();
      for (let round = 0; round < ROUNDS; round++) {
        const slug = `gone-${n++}`;
        const made = await call(t, 'POST', '/namespaces/alice/projects', { name: slug });
        expect(made.statusCode, made.body).toBe(201);
        const url = round % 2 ? `/nodes/${made.json().id}` : `/namespaces/alice/projects/${slug}`;
        expect(statuses(await Promise.all([call(t, 'DELETE', url), call(peer, 'DELETE', url)]))).toEqual([200, 404]);
        expect((await call(t, 'POST', '/namespaces', { slug })).statusCode).toBe(201);
        const both = await Promise.all([call(t, 'DELETE', `/namespaces/${slug}`), call(peer, 'DELETE', `/namespaces/${slug}`)]);
        expect(statuses(both)).toEqual([200, 404]);
      }
    });

    it('two renames of one namespace, project, dataset or collection at once: one 200, the other 404 (its URL names it no more)', async () => {
      const statuses = (pair: { statusCode: number }[]) => pair.map((r) => r.statusCode).sort();
      for (let round = 0; round < ROUNDS; round++) {
        const k = n++;
        expect((await call(t, 'POST', '/namespaces', { slug: `ns-${k}` })).statusCode).toBe(201);
        expect((await call(t, 'POST', '/namespaces/alice/projects', { name: `pr-${k}` })).statusCode).toBe(201);
        expect((await call(t, 'POST', `${lab.base}/datasets`, { name: `ds-${k}` })).statusCode).toBe(201);
        expect((await call(t, 'POST', `${lab.base}/collections`, { name: `co-${k}` })).statusCode).toBe(201);
        const cases: [string, object, object][] = [
          [`/namespaces/ns-${k}`, { slug: `ns-${k}-a` }, { slug: `ns-${k}-b` }],
          [`/namespaces/alice/projects/pr-${k}`, { slug: `pr-${k}-a` }, { slug: `pr-${k}-b` }],
          [`${lab.base}/datasets/ds-${k}`, { name: `ds-${k}-a` }, { name: `ds-${k}-b` }],
          [`${lab.base}/collections/co-${k}`, { name: `co-${k}-a` }, { name: `co-${k}-b` }],
        ];
        for (const [url, first, second] of cases) {
          const both = await Promise.all([call(t, 'PATCH', url, first), call(peer, 'PATCH', url, second)]);
          expect(statuses(both), `${url}: ${both.map((r) => r.body).join(' | ')}`).toEqual([200, 404]);
        }
      }
    });

    it('two owners removing each other at once: the namespace keeps an owner', async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const slug = `org-${n++}`;
        expect((await call(t, 'POST', '/namespaces', { slug })).statusCode).toBe(201);
        const put = await call(t, 'PUT', `/namespaces/${slug}/members/bob`, { role: 'owner' });
        expect(put.statusCode, put.body).toBeLessThan(300);
        const [a, b] = await Promise.all([
          t.inject({ method: 'DELETE', url: `/namespaces/${slug}/members/bob`, headers: lab.alice }),
          peer.inject({ method: 'DELETE', url: `/namespaces/${slug}/members/alice`, headers: lab.bob }),
        ]);
        expect(a.statusCode, a.body).toBeLessThan(500);
        expect(b.statusCode, b.body).toBeLessThan(500);
        const owners = await t.database.db
          .selectFrom('namespace_members as m')
          .innerJoin('namespaces as ns', 'ns.id', 'm.namespace_id')
          .select('m.user_id')
          .where('ns.slug', '=', slug)
          .where('m.role', '=', 'owner')
          .execute();
        expect(owners.length, `${a.statusCode}/${b.statusCode}`).toBeGreaterThanOrEqual(1);
      }
    });
  });
}
