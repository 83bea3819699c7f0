import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../src/core/auth/api-keys.js';
import { loadConfig } from '../../src/core/config.js';
import { BASE, createScriptTestApp, DIALECTS, type ScriptTestApp } from './helpers.js';

describe.each(DIALECTS)('Dreamscript API keys and scopes (%s)', (dialect) => {
  let t: ScriptTestApp;
  let admin: string;
  let mine: number;
  let theirs: number;
  let myDoc: number;
  let theirDoc: number;
  let looseDoc: number;
  beforeAll(async () => {
    t = await createScriptTestApp(dialect);
    admin = await t.key();
    mine = (await t.call(admin, { method: 'POST', url: '/projects', payload: { name: 'mine' } })).json().id;
    theirs = (await t.call(admin, { method: 'POST', url: '/projects', payload: { name: 'theirs' } })).json().id;
    const doc = async (payload: object) => (await t.call(admin, { method: 'POST', url: '/documents', payload })).json().id;
    myDoc = await doc({ title: 'my doc', projectId: mine });
    theirDoc = await doc({ title: 'their doc', projectId: theirs });
    looseDoc = await doc({ title: 'no project' });
  });
  afterAll(async () => t.close());

  describe('authentication', () => {
    it.each([
      ['missing', undefined],
      ['empty', ''],
      ['unknown', 'ds_not-a-real-key'],
    ])('a %s X-API-Key is a 401 on every route', async (_name, value) => {
      for (const [method, url] of [
        ['GET', '/documents'],
        ['POST', '/documents'],
        ['GET', `/documents/${myDoc}`],
        ['GET', '/projects'],
        ['GET', '/changes'],
        ['GET', '/keys'],
        ['GET', '/key'],
      ] as const) {
        const res = await t.app.inject({
          method,
          url: `${BASE}${url}`,
          headers: value === undefined ? {} : { 'x-api-key': value },
          ...(method === 'POST' && { payload: { title: 'x' } }),
        });
        expect(res.statusCode, `${method} ${url}`).toBe(401);
        expect(res.json().error).toBe('unauthorized');
      }
    });

    it('the header name is case-insensitive, and a 401 comes before body validation', async () => {
      const ok = await t.app.inject({ method: 'GET', url: `${BASE}/documents/${myDoc}`, headers: { 'X-API-KEY': admin } });
      expect(ok.statusCode).toBe(200);
      const res = await t.app.inject({ method: 'POST', url: `${BASE}/documents`, payload: { nope: 1 } });
      expect(res.statusCode).toBe(401);
    });

    it('stores only a hash of each secret', async () => {
      const rows = await t.db.selectFrom('script_keys').select(['hash', 'prefix']).execute();
      expect(rows.some((r) => r.hash === hashApiKey(admin))).toBe(true);
      expect(JSON.stringify(rows)).not.toContain(admin);
    });
  });

  describe('scope matrix', () => {
    let scoped: string;
    let readOnly: string;
    beforeAll(async () => {
      scoped = await t.key({ projects: [mine] });
      readOnly = await t.key({ readOnly: true });
    });

    it('a project-scoped key sees its project’s documents and nothing else in lists', async () => {
      const docs = await t.call(scoped, { method: 'GET', url: '/documents?limit=1000' });
      expect(docs.json().map((d: { id: number }) => d.id)).toEqual([myDoc]);
      const projects = await t.call(scoped, { method: 'GET', url: '/projects' });
      expect(projects.json().map((p: { id: number }) => p.id)).toEqual([mine]);
    });

    it('a project-scoped key gets 403 on another project’s document and on documents outside projects', async () => {
      expect((await t.call(scoped, { method: 'GET', url: `/documents/${myDoc}` })).statusCode).toBe(200);
      for (const id of [theirDoc, looseDoc]) {
        for (const call of [
          { method: 'GET', url: `/documents/${id}` },
          { method: 'GET', url: `/documents/${id}/revisions` },
          { method: 'PUT', url: `/documents/${id}`, payload: { title: 'x', projectId: mine } },
          { method: 'PATCH', url: `/documents/${id}`, payload: { title: 'x' } },
          { method: 'DELETE', url: `/documents/${id}` },
        ] as const) {
          const res = await t.call(scoped, call);
          expect(res.statusCode, `${call.method} ${call.url}`).toBe(403);
          expect(res.json().error).toBe('forbidden');
        }
      }
      expect((await t.db.selectFrom('script_documents').select('generation').where('id', '=', theirDoc).executeTakeFirst())?.generation).toBe(1);
    });

    it('a project-scoped key gets 403 on other projects, and may not create projects', async () => {
      for (const call of [
        { method: 'GET', url: `/projects/${theirs}` },
        { method: 'GET', url: `/projects/${theirs}/documents` },
        { method: 'PATCH', url: `/projects/${theirs}`, payload: { name: 'x' } },
        { method: 'DELETE', url: `/projects/${theirs}` },
        { method: 'POST', url: '/projects', payload: { name: 'new' } },
      ] as const) {
        expect((await t.call(scoped, call)).statusCode, `${call.method} ${call.url}`).toBe(403);
      }
      expect((await t.call(scoped, { method: 'GET', url: `/projects/${mine}/documents` })).statusCode).toBe(200);
    });

    it('a project-scoped key may not rename or delete even its own project (403, nothing changed)', async () => {
      const own = (await t.call(admin, { method: 'POST', url: '/projects', payload: { name: 'own', description: 'kept' } })).json();
      const ownKey = await t.key({ projects: [own.id] });
      const storedOwn = () => t.db.selectFrom('script_projects').selectAll().where('id', '=', own.id).executeTakeFirstOrThrow();
      const before = await storedOwn();
      for (const call of [
        { method: 'PATCH', url: `/projects/${own.id}`, payload: { name: 'renamed' } },
        { method: 'PATCH', url: `/projects/${own.id}`, payload: { description: null } },
        { method: 'DELETE', url: `/projects/${own.id}` },
      ] as const) {
        const res = await t.call(ownKey, call);
        expect(res.statusCode, `${call.method} ${call.url}`).toBe(403);
        expect(res.json()).toEqual({ error: 'forbidden', message: 'This API key is limited to some projects and may not rename or delete projects.' });
      }
      // A project-scoped read-only key is refused as read-only first, like every write.
      const readOnlyOwn = await t.key({ projects: [own.id], readOnly: true });
      const ro = await t.call(readOnlyOwn, { method: 'DELETE', url: `/projects/${own.id}` });
      expect(ro.statusCode).toBe(403);
      expect(ro.json()).toEqual({ error: 'forbidden', message: 'This API key is read-only.' });
      expect(await storedOwn()).toEqual(before);
      expect((await t.call(ownKey, { method: 'GET', url: `/projects/${own.id}` })).json()).toMatchObject({ name: 'own', description: 'kept' });
      // What the key may do in its project is unchanged: write its documents.
      expect((await t.call(ownKey, { method: 'POST', url: '/documents', payload: { title: 'inside', projectId: own.id } })).statusCode).toBe(201);
    });

    it('a plain (unscoped) key and an admin key may rename and delete projects', async () => {
      for (const secret of [await t.key({}), admin]) {
        const { id } = (await t.call(admin, { method: 'POST', url: '/projects', payload: { name: 'managed' } })).json();
        const renamed = await t.call(secret, { method: 'PATCH', url: `/projects/${id}`, payload: { name: 'renamed' } });
        expect(renamed.statusCode).toBe(200);
        expect(renamed.json()).toMatchObject({ id, name: 'renamed' });
        expect(await t.db.selectFrom('script_projects').select('name').where('id', '=', id).executeTakeFirst()).toEqual({ name: 'renamed' });
        const deleted = await t.call(secret, { method: 'DELETE', url: `/projects/${id}` });
        expect(deleted.statusCode).toBe(204);
        expect((await t.db.selectFrom('script_projects').select('deleted_at').where('id', '=', id).executeTakeFirst())?.deleted_at).toEqual(expect.any(String));
      }
    });

    it('a project-scoped key writes inside its project only', async () => {
      const inside = await t.call(scoped, { method: 'POST', url: '/documents', payload: { title: 'ok', projectId: mine } });
      expect(inside.statusCode).toBe(201);
      const outside = await t.call(scoped, { method: 'POST', url: '/documents', payload: { title: 'no', projectId: theirs } });
      expect(outside.statusCode).toBe(403);
      const loose = await t.call(scoped, { method: 'POST', url: '/documents', payload: { title: 'no' } });
      expect(loose.statusCode).toBe(403);
      const moveOut = await t.call(scoped, { method: 'PATCH', url: `/documents/${inside.json().id}`, payload: { projectId: theirs } });
      expect(moveOut.statusCode).toBe(403);
      const replaceOut = await t.call(scoped, { method: 'PUT', url: `/documents/${inside.json().id}`, payload: { title: 'x' } });
      expect(replaceOut.statusCode).toBe(403);
      const edit = await t.call(scoped, { method: 'PATCH', url: `/documents/${inside.json().id}`, payload: { title: 'edited' } });
      expect(edit.statusCode).toBe(200);
    });

    it('a read-only key reads everything and writes nothing (403)', async () => {
      expect((await t.call(readOnly, { method: 'GET', url: `/documents/${theirDoc}` })).statusCode).toBe(200);
      expect((await t.call(readOnly, { method: 'GET', url: '/documents' })).statusCode).toBe(200);
      const before = await t.db.selectFrom('script_documents').select('id').execute();
      for (const call of [
        { method: 'POST', url: '/documents', payload: { title: 'x' } },
        { method: 'POST', url: '/documents/_bulk', payload: { docs: [{ title: 'x' }] } },
        { method: 'PUT', url: `/documents/${looseDoc}`, payload: { title: 'x' } },
        { method: 'PATCH', url: `/documents/${looseDoc}`, payload: { title: 'x' } },
        { method: 'DELETE', url: `/documents/${looseDoc}` },
        { method: 'POST', url: '/projects', payload: { name: 'x' } },
        { method: 'PATCH', url: `/projects/${mine}`, payload: { name: 'x' } },
        { method: 'DELETE', url: `/projects/${theirs}` },
      ] as const) {
        const res = await t.call(readOnly, call);
        expect(res.statusCode, `${call.method} ${call.url}`).toBe(403);
        expect(res.json().message).toBe('This API key is read-only.');
      }
      expect(await t.db.selectFrom('script_documents').select('id').execute()).toEqual(before);
    });

    it('only an admin key manages keys', async () => {
      for (const secret of [scoped, readOnly, await t.key({})]) {
        expect((await t.call(secret, { method: 'GET', url: '/keys' })).statusCode).toBe(403);
        expect((await t.call(secret, { method: 'POST', url: '/keys', payload: {} })).statusCode).toBe(403);
        expect((await t.call(secret, { method: 'DELETE', url: '/keys/1' })).statusCode).toBe(403);
      }
    });
  });

  describe('key management over HTTP', () => {
    it('creates a key (secret shown once), lists keys without secrets, and revokes at once', async () => {
      const created = await t.call(admin, { method: 'POST', url: '/keys', payload: { name: 'ci', projects: [mine], readOnly: true } });
      expect(created.statusCode).toBe(201);
      const body = created.json();
      expect(body).toMatchObject({ name: 'ci', projects: [mine], readOnly: true, admin: false });
      expect(body.key).toMatch(/^ds_[\w-]{32}$/);
      expect(body.prefix).toBe(body.key.slice(0, 10));

      const listed = await t.call(admin, { method: 'GET', url: '/keys?limit=1000' });
      expect(listed.statusCode).toBe(200);
      const entry = listed.json().find((k: { id: number }) => k.id === body.id);
      expect(entry).toEqual({ id: body.id, name: 'ci', prefix: body.prefix, projects: [mine], readOnly: true, admin: false, createdAt: body.createdAt });
      expect(listed.body).not.toContain(body.key);

      expect((await t.call(body.key, { method: 'GET', url: `/documents/${myDoc}` })).statusCode).toBe(200);
      const revoked = await t.call(admin, { method: 'DELETE', url: `/keys/${body.id}` });
      expect(revoked.statusCode).toBe(204);
      expect((await t.call(body.key, { method: 'GET', url: `/documents/${myDoc}` })).statusCode).toBe(401);
      expect((await t.call(admin, { method: 'DELETE', url: `/keys/${body.id}` })).statusCode).toBe(404);
      const after = (await t.call(admin, { method: 'GET', url: '/keys?limit=1000' })).json();
      expect(after.map((k: { id: number }) => k.id)).not.toContain(body.id);
    });

    it('rotation: a new admin key works, the old one is revoked', async () => {
      const old = await t.key();
      const oldId = (await t.call(admin, { method: 'GET', url: '/keys?limit=1000' })).json().at(-1).id;
      const fresh = (await t.call(old, { method: 'POST', url: '/keys', payload: { name: 'rotated', admin: true } })).json();
      expect((await t.call(fresh.key, { method: 'DELETE', url: `/keys/${oldId}` })).statusCode).toBe(204);
      expect((await t.call(old, { method: 'GET', url: '/keys' })).statusCode).toBe(401);
      expect((await t.call(fresh.key, { method: 'GET', url: '/keys' })).statusCode).toBe(200);
    });

    it('GET /key tells any live key what it may do, never its secret', async () => {
      const cases = [
        [admin, { readOnly: false, admin: true }],
        [await t.key({ name: 'reader', readOnly: true }), { name: 'reader', readOnly: true, admin: false }],
        [await t.key({ projects: [mine, theirs] }), { projects: [mine, theirs], readOnly: false, admin: false }],
      ] as const;
      const listed = (await t.call(admin, { method: 'GET', url: '/keys?limit=1000' })).json() as { prefix: string }[];
      for (const [secret, expected] of cases) {
        const res = await t.call(secret, { method: 'GET', url: '/key' });
        expect(res.statusCode).toBe(200);
        const body = res.json();
        expect(body).toMatchObject({ ...expected, prefix: secret.slice(0, 10) });
        expect('projects' in body).toBe('projects' in expected);
        expect(listed.find((k) => k.prefix === body.prefix)).toEqual(body);
        expect(res.body).not.toContain(secret);
      }
    });

    it('a revocation through another replica counts at once', async () => {
      const secret = await t.key({});
      const id = (await t.call(admin, { method: 'GET', url: '/keys?limit=1000' })).json().at(-1).id;
      const peer = await t.peer();
      expect((await t.call(secret, { method: 'GET', url: '/documents' })).statusCode).toBe(200);
      const res = await peer.inject({ method: 'DELETE', url: `${BASE}/keys/${id}`, headers: { 'x-api-key': admin } });
      expect(res.statusCode).toBe(204);
      expect((await t.call(secret, { method: 'GET', url: '/documents' })).statusCode).toBe(401);
    });

    it.each([
      ['unknown projects', { projects: [999999] }, /Unknown projects: 999999/],
      ['admin with projects', { admin: true, projects: [1] }, /admin/],
      ['admin read-only', { admin: true, readOnly: true }, /admin/],
      ['empty projects', { projects: [] }, /projects/],
      ['unknown field', { scopes: ['all'] }, /Unknown field scopes/],
    ])('refuses %s with a 400', async (_name, payload, message) => {
      const before = (await t.db.selectFrom('script_keys').select('id').execute()).length;
      const res = await t.call(admin, { method: 'POST', url: '/keys', payload });
      expect(res.statusCode).toBe(400);
      expect(res.json().message).toMatch(message);
      expect((await t.db.selectFrom('script_keys').select('id').execute()).length).toBe(before);
    });
  });
});

describe.each(DIALECTS)('Dreamscript rate limits (%s)', (dialect) => {
  let t: ScriptTestApp;
  beforeAll(async () => {
    t = await createScriptTestApp(dialect, { DREAMSCRIPT_RATE_LIMIT: '1' });
  });
  afterAll(async () => t.close());

  it('allows bursts of twice the rate per key, then answers 429 with Retry-After', async () => {
    const first = await t.key();
    const second = await t.key();
    // The bucket starts full (2 tokens) and refills at 1/s: the first two pass, and a 429 follows soon after
    // however slow the machine is (it would take 18 s for 20 requests to all find a token).
    const responses = [];
    for (let i = 0; i < 20; i++) {
      const res = await t.call(first, { method: 'GET', url: '/documents' });
      responses.push(res);
      if (res.statusCode === 429) break;
    }
    expect(responses.slice(0, 2).map((r) => r.statusCode)).toEqual([200, 200]);
    const limited = responses[responses.length - 1];
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toEqual({ error: 'rate_limited', message: 'Too many requests; retry later.' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Another key has its own bucket.
    expect((await t.call(second, { method: 'GET', url: '/documents' })).statusCode).toBe(200);
  });

  it('is read from [dreamscript] rate_limit, and 0 turns it off', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dreamscript-ini-'));
    writeFileSync(join(dir, 'dreamlake.ini'), '[dreamscript]\nrate_limit = 7\n');
    expect(loadConfig({ config: join(dir, 'dreamlake.ini') }, {}).script.rateLimit).toBe(7);
    expect(loadConfig({ config: join(dir, 'dreamlake.ini') }, { DREAMSCRIPT_RATE_LIMIT: '0' }).script.rateLimit).toBe(0);
    expect(loadConfig({}, {}).script.rateLimit).toBe(100);

    const off = await createScriptTestApp(dialect, { DREAMSCRIPT_RATE_LIMIT: '0' });
    try {
      const key = await off.key();
      for (let i = 0; i < 30; i++) expect((await off.call(key, { method: 'GET', url: '/documents' })).statusCode).toBe(200);
    } finally {
      await off.close();
    }
  });
});
