import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DIALECTS, type TestApp } from '../helpers/app.js';
import { memberIds } from '../helpers/members.js';

type Headers = Record<string, string>;

// Hot reads (get and list collections) may answer from the response cache on SQLite. Whatever writes the
// data (this app, another connection, the database handle itself), the next read must see it.
describe.each(DIALECTS)('DreamLake response cache (%s)', (dialect) => {
  let t: TestApp;
  let peer: FastifyInstance;
  let alice: Headers;
  let bob: Headers;
  const base = '/namespaces/acme/projects/lab';

  beforeAll(async () => {
    t = await createTestApp(dialect);
    peer = await t.peer();
    alice = await t.auth('alice');
    bob = await t.auth('bob');
    await t.inject({ method: 'GET', url: '/auth/me', headers: bob });
    expect((await t.inject({ method: 'POST', url: '/namespaces', headers: alice, payload: { slug: 'acme', name: 'Acme' } })).statusCode).toBe(201);
    expect((await t.inject({ method: 'POST', url: '/namespaces/acme/projects', headers: alice, payload: { name: 'Lab' } })).statusCode).toBe(201);
    const m = await memberIds(t, alice, 'acme', 'lab', 3);
    expect((await post(`${base}/collections`, { name: 'hot', members: m.slice(0, 2) })).statusCode).toBe(201);
  });
  afterAll(async () => t.close());

  const post = (url: string, payload: object, headers = alice) => t.inject({ method: 'POST', url, headers, payload });
  const get = (url: string, headers = alice, app: { inject(o: InjectOptions): ReturnType<TestApp['inject']> } = t) =>
    app.inject({ method: 'GET', url, headers });
  const statementsOf = async (url: string, headers = alice) => {
    const before = t.database.statements.count;
    const res = await get(url, headers);
    return { res, statements: t.database.statements.count - before };
  };

  it('answers a repeated read without running its query again (SQLite), with the same body and headers', async () => {
    const first = await statementsOf(`${base}/collections/hot`);
    const second = await statementsOf(`${base}/collections/hot`);
    expect(second.res.statusCode).toBe(200);
    expect(second.res.json()).toEqual(first.res.json());
    expect(second.res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(second.res.headers['x-request-id']).toBeTruthy();
    // SQLite: the miss reads the data version and runs the query, the hit only reads the version.
    // PostgreSQL has no cheap version, so every read runs its one query.
    expect(second.statements).toBe(1);
    if (dialect === 'sqlite') expect(first.statements).toBeLessThanOrEqual(2);
  });

  it('sees a write made through the API at once', async () => {
    await get(`${base}/collections/hot`);
    const patched = await t.inject({ method: 'PATCH', url: `${base}/collections/hot`, headers: alice, payload: { description: 'after' } });
    expect(patched.statusCode).toBe(200);
    expect((await get(`${base}/collections/hot`)).json().description).toBe('after');
  });

  it('sees a write made by another server on the same database at once', async () => {
    const before = (await get(`${base}/collections/hot`)).json();
    const extra = await memberIds(t, alice, 'acme', 'lab', 1);
    await get(`${base}/collections/hot`); // cached again after the upload's writes
    const added = await peer.inject({ method: 'POST', url: `${base}/collections/hot/members`, headers: alice, payload: { add: extra } });
    expect(added.statusCode).toBe(200);
    expect((await get(`${base}/collections/hot`)).json().members).toEqual([...before.members, ...extra]);
  });

  it('sees a write made straight through the database handle', async () => {
    await get(`${base}/collections/hot`);
    await t.database.db.updateTable('collections').set({ description: 'direct' }).where('name', '=', 'hot').execute();
    expect((await get(`${base}/collections/hot`)).json().description).toBe('direct');
  });

  it('keeps users apart and drops a revoked member at once', async () => {
    expect((await get(`${base}/collections/hot`, bob)).statusCode).toBe(404);
    await get(`${base}/collections/hot`); // alice's answer is cached; bob's key is his own
    expect((await get(`${base}/collections/hot`, bob)).statusCode).toBe(404);

    const granted = await t.inject({ method: 'PUT', url: '/namespaces/acme/members/bob', headers: alice, payload: { role: 'read' } });
    expect(granted.statusCode).toBe(201);
    expect((await get(`${base}/collections/hot`, bob)).statusCode).toBe(200);
    expect((await get(`${base}/collections/hot`, bob)).statusCode).toBe(200);
    const revoked = await peer.inject({ method: 'DELETE', url: '/namespaces/acme/members/bob', headers: alice });
    expect(revoked.statusCode).toBe(200);
    expect((await get(`${base}/collections/hot`, bob)).statusCode).toBe(404);
  });

  it('keeps ?expand=nodes apart from the plain answer', async () => {
    const plain = await get(`${base}/collections/hot`);
    const expanded = await get(`${base}/collections/hot?expand=nodes`);
    expect(plain.json().nodes).toBeUndefined();
    expect(expanded.json().nodes).toHaveLength(plain.json().members.length);
    expect((await get(`${base}/collections/hot`)).json().nodes).toBeUndefined();
  });

  it('lists: a collection created elsewhere shows at once, and each page is its own answer', async () => {
    const before = (await get(`${base}/collections?pageSize=1`)).json();
    await get(`${base}/collections?pageSize=1&page=2`);
    expect((await peer.inject({ method: 'POST', url: `${base}/collections`, headers: alice, payload: { name: 'fresh' } })).statusCode).toBe(201);
    const after = (await get(`${base}/collections?pageSize=1`)).json();
    expect(after.total).toBe(before.total + 1);
    expect(after.collections[0].name).toBe('fresh');
    expect((await get(`${base}/collections?pageSize=1&page=2`)).json().collections[0].name).toBe(before.collections[0].name);
  });

  it('project lists keep the key of the path used, and a renamed slug is a 404 at once', async () => {
    const projects = (await get('/namespaces/acme/projects')).json();
    const spaces = (await get('/namespaces/acme/spaces')).json();
    expect(projects.projects.map((p: { slug: string }) => p.slug)).toEqual(['lab']);
    expect(spaces.spaces.map((p: { slug: string }) => p.slug)).toEqual(['lab']);
    expect(spaces.projects).toBeUndefined();
    expect((await post('/namespaces/acme/projects', { name: 'Side' })).statusCode).toBe(201);
    await get('/namespaces/acme/projects/side');
    const renamed = await peer.inject({ method: 'PATCH', url: '/namespaces/acme/projects/side', headers: alice, payload: { slug: 'side-2' } });
    expect(renamed.statusCode).toBe(200);
    expect((await get('/namespaces/acme/projects/side')).statusCode).toBe(404);
    expect((await get('/namespaces/acme/spaces')).json().total).toBe(2);
  });

  it('a dataset answer follows its collections as they are attached elsewhere', async () => {
    expect((await post(`${base}/datasets`, { name: 'train' })).statusCode).toBe(201);
    expect((await get(`${base}/datasets/train`)).json().collections).toEqual([]);
    await get(`${base}/datasets`);
    const attached = await peer.inject({ method: 'POST', url: `${base}/datasets/train/collections`, headers: alice, payload: { add: ['hot'] } });
    expect(attached.statusCode).toBe(200);
    expect((await get(`${base}/datasets/train`)).json().collections.map((c: { name: string }) => c.name)).toEqual(['hot']);
    expect((await get(`${base}/datasets`)).json().datasets[0]).toMatchObject({ name: 'train', description: null });
    await peer.inject({ method: 'PATCH', url: `${base}/datasets/train`, headers: alice, payload: { description: 'v2' } });
    expect((await get(`${base}/datasets`)).json().datasets[0]).toMatchObject({ name: 'train', description: 'v2' });
  });

  it('never answers older than a write that has been acknowledged, with readers racing the writer', async () => {
    let writing = true;
    const readers = Array.from({ length: 4 }, async () => {
      while (writing) {
        expect((await get(`${base}/collections/hot`)).statusCode).toBe(200);
        // A cached answer resolves within microtasks; let the writer's I/O run as a socket's would.
        await new Promise((resolve) => setImmediate(resolve));
      }
    });
    try {
      for (let i = 0; i < 30; i++) {
        const patched = await t.inject({ method: 'PATCH', url: `${base}/collections/hot`, headers: alice, payload: { description: `v${i}` } });
        expect(patched.statusCode).toBe(200);
        expect((await get(`${base}/collections/hot`)).json().description).toBe(`v${i}`);
      }
    } finally {
      writing = false;
      await Promise.all(readers);
    }
  });

  it('a deleted collection is a 404 at once, even right after a cached read', async () => {
    expect((await post(`${base}/collections`, { name: 'doomed' })).statusCode).toBe(201);
    expect((await get(`${base}/collections/doomed`)).statusCode).toBe(200);
    expect((await get(`${base}/collections/doomed`)).statusCode).toBe(200);
    expect((await peer.inject({ method: 'DELETE', url: `${base}/collections/doomed`, headers: alice })).statusCode).toBe(200);
    expect((await get(`${base}/collections/doomed`)).statusCode).toBe(404);
  });
});

describe.each(DIALECTS)('DreamLake response cache settings (%s)', (dialect) => {
  it('response_cache_entries = 0 turns it off: every read runs its query', async () => {
    const t = await createTestApp(dialect, { DREAMLAKE_RESPONSE_CACHE_ENTRIES: '0' });
    try {
      const alice = await t.auth('alice');
      await t.inject({ method: 'POST', url: '/namespaces/alice/projects', headers: alice, payload: { name: 'Lab' } });
      await t.inject({ method: 'POST', url: '/namespaces/alice/projects/lab/collections', headers: alice, payload: { name: 'c' } });
      const url = '/namespaces/alice/projects/lab/collections/c';
      await t.inject({ method: 'GET', url, headers: alice });
      const before = t.database.statements.count;
      const res = await t.inject({ method: 'GET', url, headers: alice });
      expect(res.statusCode).toBe(200);
      expect(t.database.statements.count - before).toBe(1); // the query itself, no data version
    } finally {
      await t.close();
    }
  });

  it('keeps at most response_cache_entries answers, dropping the oldest first', async () => {
    const t = await createTestApp(dialect, { DREAMLAKE_RESPONSE_CACHE_ENTRIES: '2' });
    try {
      const alice = await t.auth('alice');
      await t.inject({ method: 'POST', url: '/namespaces/alice/projects', headers: alice, payload: { name: 'Lab' } });
      for (const name of ['a', 'b', 'c']) {
        await t.inject({ method: 'POST', url: '/namespaces/alice/projects/lab/collections', headers: alice, payload: { name } });
      }
      const cost = async (name: string) => {
        const before = t.database.statements.count;
        const res = await t.inject({ method: 'GET', url: `/namespaces/alice/projects/lab/collections/${name}`, headers: alice });
        expect(res.json().name).toBe(name);
        return t.database.statements.count - before;
      };
      for (const name of ['a', 'b', 'c']) await cost(name);
      // a was dropped to make room for c; c is still there. PostgreSQL never caches.
      expect(await cost('a')).toBe(dialect === 'sqlite' ? 2 : 1);
      expect(await cost('c')).toBe(1);
    } finally {
      await t.close();
    }
  });
});
