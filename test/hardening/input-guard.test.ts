import { SignJWT } from 'jose';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../../src/script/keys/repo.js';
import { scriptDb } from '../../src/script/db.js';
import { createTestApp, DIALECTS, TEST_JWT_SECRET, type TestApp } from '../helpers/app.js';
import { labProject, type LabProject } from '../helpers/lake.js';

// One guard for what clients send, on the three APIs and both databases (src/core/input-guard.ts): deep JSON
// and NUL characters never reach a route or the database, in bodies, keys, queries, paths or JWT claims.

const SPACE_KEY = 'guard-space-key';

/** `{"a":{"a":…}}` nested `depth` levels, as text (JSON.stringify would recurse). */
function nested(depth: number, leaf = '1'): string {
  return '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);
}

for (const dialect of DIALECTS) {
  describe(`input guard (${dialect})`, () => {
    let t: TestApp;
    let lab: LabProject;
    let scriptKey: string;
    beforeAll(async () => {
      t = await createTestApp(dialect, { DREAMSPACE_APITOKEN: SPACE_KEY });
      lab = await labProject(t);
      scriptKey = (await createKey(scriptDb(t.database), { admin: true })).secret;
    });
    afterAll(() => t.close());

    const lake = (method: string, url: string, payload?: string) =>
      t.inject({ method: method as 'POST', url, headers: { ...lab.alice, 'content-type': 'application/json' }, ...(payload === undefined ? {} : { payload }) });
    const script = (method: string, url: string, payload?: string, type = 'application/json') =>
      t.inject({ method: method as 'POST', url: `/dreamscript${url}`, headers: { 'x-api-key': scriptKey, 'content-type': type }, ...(payload === undefined ? {} : { payload }) });
    const space = (method: string, url: string, payload?: string) =>
      t.inject({ method: method as 'POST', url: `/dreamspace${url}`, headers: { 'x-api-key': SPACE_KEY, 'content-type': 'application/json' }, ...(payload === undefined ? {} : { payload }) });

    it('takes an empty body with Content-Type: application/json on GET and DELETE as no body (clients that always set it)', async () => {
      expect((await lake('POST', '/namespaces/alice/projects', JSON.stringify({ name: 'emptybody' }))).statusCode).toBe(201);
      expect((await lake('GET', '/namespaces/alice/projects/emptybody', '')).statusCode).toBe(200);
      const gone = await lake('DELETE', '/namespaces/alice/projects/emptybody', '');
      expect(gone.statusCode).toBe(200);
      expect((await lake('GET', '/namespaces/alice/projects/emptybody')).statusCode).toBe(404);
      expect((await script('GET', '/documents?limit=1', '')).statusCode).toBe(200);
      // A method that carries a body still needs one.
      const post = await lake('POST', '/namespaces/alice/projects', '');
      expect(post.statusCode).toBe(400);
    });

    it('refuses a body that is not UTF-8 with a 400 on every API, and stores nothing (decoding it would store U+FFFD)', async () => {
      const latin1 = (json: string) => Buffer.from(json, 'latin1'); // "café" as one byte 0xE9: not UTF-8
      const lakeRes = await t.inject({ method: 'POST', url: '/namespaces/alice/projects', headers: { ...lab.alice, 'content-type': 'application/json' }, payload: latin1('{"name":"café"}') });
      expect(lakeRes.statusCode).toBe(400);
      expect(lakeRes.json()).toMatchObject({ error: 'invalid_json', message: expect.stringContaining('UTF-8') });
      expect((await lake('GET', '/namespaces/alice/projects/caf')).statusCode).toBe(404);
      const before = (await script('GET', '/documents?limit=1000')).json().length;
      for (const type of ['application/json', 'application/merge-patch+json']) {
        const res = await t.inject({ method: 'POST', url: '/dreamscript/documents', headers: { 'x-api-key': scriptKey, 'content-type': type }, payload: latin1('{"title":"café"}') });
        expect(res.statusCode).toBeGreaterThanOrEqual(400);
        expect(res.statusCode).toBeLessThan(500);
      }
      expect((await script('POST', '/documents', latin1('{"title":"café"}').toString('latin1'))).statusCode).toBe(201); // the same text as UTF-8 is fine
      expect((await script('GET', '/documents?limit=1000')).json().length).toBe(before + 1);
      await script('PUT', '/couch/guardutf8');
      const couch = await t.inject({ method: 'PUT', url: '/dreamscript/couch/guardutf8/doc', headers: { 'x-api-key': scriptKey, 'content-type': 'application/json' }, payload: latin1('{"title":"café"}') });
      expect(couch.statusCode).toBe(400);
      expect(couch.json()).toEqual({ error: 'bad_request', reason: 'invalid UTF-8 JSON' });
      expect((await script('GET', '/couch/guardutf8/doc')).statusCode).toBe(404);
      const spaceRes = await t.inject({ method: 'POST', url: '/dreamspace/users', headers: { 'x-api-key': SPACE_KEY, 'content-type': 'application/json' }, payload: latin1('{"twitch_id":"utf8guard","name":"café"}') });
      expect(spaceRes.statusCode).toBe(400);
    });

    it('refuses JSON nested deeper than 64 levels with a 400 that says the limit, on every API', async () => {
      const deep = nested(5000);
      const lakeRes = await lake('POST', '/namespaces/alice/projects', `{"name":"deep","metadata":${deep}}`);
      expect(lakeRes.statusCode).toBe(400);
      expect(lakeRes.json()).toEqual({ error: 'invalid_json', message: expect.stringContaining('at most 64 levels') });

      const scriptRes = await script('POST', '/documents', `{"title":"x","content":${deep}}`);
      expect(scriptRes.statusCode).toBe(400);
      expect(scriptRes.json().message).toContain('at most 64 levels');
      const mergePatch = await script('PATCH', '/documents/1', `{"title":${deep}}`, 'application/merge-patch+json');
      expect(mergePatch.statusCode).toBe(400);
      expect(mergePatch.json().message).toContain('at most 64 levels');

      const spaceRes = await space('POST', '/users', `{"twitch_id":"1","name":"x","preferences":${deep}}`);
      expect(spaceRes.statusCode).toBe(400);
      expect(spaceRes.headers['content-type']).toMatch(/^text\/plain/);
      expect(spaceRes.body).toContain('at most 64 levels');
      expect((await space('GET', '/users')).json()).toEqual([]);
    });

    it('refuses a body of more than a million JSON values with a 413 before parsing it (Dreamspace takes 16 MiB bodies)', async () => {
      const many = `{"twitch_id":"2","name":"x","preferences":{"list":[${'{},'.repeat(1_100_000)}{}]}}`; // 3.3 MB
      const res = await space('POST', '/users', many);
      expect(res.statusCode).toBe(413);
      expect(res.body).toContain('1,000,000 values');
      expect((await space('GET', '/users')).json()).toEqual([]);
    });

    it('takes 64 levels of metadata, and counts brackets inside strings as text', async () => {
      const ok = await lake('POST', '/namespaces/alice/projects', `{"name":"d63","metadata":${nested(63)}}`);
      expect(ok.statusCode).toBe(201);
      const text = await lake('POST', '/namespaces/alice/projects', JSON.stringify({ name: 'brackets', metadata: { s: '['.repeat(500) + '\\"{'.repeat(100) } }));
      expect(text.statusCode).toBe(201);
      const tooDeep = await lake('POST', '/namespaces/alice/projects', `{"name":"d64","metadata":${nested(64)}}`);
      expect(tooDeep.statusCode).toBe(400);
    });

    it('refuses a NUL in DreamLake body values and keys with a 400 naming the field, and stores nothing', async () => {
      const value = await lake('POST', '/namespaces/alice/projects', JSON.stringify({ name: 'a\u0000b' }));
      expect(value.statusCode).toBe(400);
      expect(value.json()).toEqual({ error: 'validation_error', message: 'Field name contains a NUL character, which text fields cannot hold.' });
      const key = await lake('POST', '/namespaces/alice/projects', JSON.stringify({ name: 'k', metadata: { 'x\u0000y': 1 } }));
      expect(key.statusCode).toBe(400);
      expect(key.json().message).toBe('Field metadata.x\\u0000y contains a NUL character, which text fields cannot hold.');
      const deepValue = await lake('POST', '/namespaces/alice/projects', JSON.stringify({ name: 'k', metadata: { list: [1, { s: '\u0000' }] } }));
      expect(deepValue.json().message).toBe('Field metadata.list[1].s contains a NUL character, which text fields cannot hold.');
      const list = await lake('GET', '/namespaces/alice/projects?pageSize=200');
      expect(list.json().projects.map((p: { name: string }) => p.name)).not.toContain('k');
      // An escaped backslash before "u0000" is text, not a NUL.
      const literal = await lake('POST', '/namespaces/alice/projects', JSON.stringify({ name: 'literal \\u0000' }));
      expect(literal.statusCode).toBe(201);
      expect(literal.json().name).toBe('literal \\u0000');
    });

    it('refuses a NUL in Dreamscript bodies (JSON and merge patch) with a 400 naming the field', async () => {
      const created = await script('POST', '/documents', JSON.stringify({ title: 't\u0000' }));
      expect(created.statusCode).toBe(400);
      expect(created.json()).toEqual({ error: 'validation_error', message: 'Field title contains a NUL character, which text fields cannot hold.' });
      const doc = await script('POST', '/documents', JSON.stringify({ title: 'ok' }));
      expect(doc.statusCode).toBe(201);
      const patched = await script('PATCH', `/documents/${doc.json().id}`, JSON.stringify({ content: 'c\u0000' }), 'application/merge-patch+json');
      expect(patched.statusCode).toBe(400);
      expect(patched.json().message).toContain('Field content contains a NUL');
    });

    it('refuses an unpaired surrogate and a number beyond ±1.8e308 with a 400 on every API and stores nothing (a surrogate pair is text)', async () => {
      // Before: 201, SQLite kept invalid UTF-8 (three U+FFFD back) and PostgreSQL one U+FFFD, so "\\udbff" then
      // collided with "\\ud800" on PostgreSQL only; 1e400 was stored as null.
      for (const name of ['\\ud800', '\\udbff', 'x\\udc00y']) {
        const res = await lake('POST', `${lab.base}/datasets`, `{"name":"${name}"}`);
        expect(res.statusCode).toBe(400);
        expect(res.json()).toEqual({ error: 'validation_error', message: expect.stringContaining('Field name contains an unpaired UTF-16 surrogate') });
      }
      const big = await lake('POST', `${lab.base}/datasets`, '{"name":"big","metadata":{"n":[1,-1e400]}}');
      expect(big.statusCode).toBe(400);
      expect(big.json().message).toBe('Field metadata.n[1] is a number too large to represent (beyond ±1.8e308).');
      const emoji = await lake('POST', `${lab.base}/datasets`, '{"name":"\\ud83d\\ude00","metadata":{"n":1.7e308}}');
      expect(emoji.statusCode).toBe(201);
      expect(emoji.json()).toMatchObject({ name: '\u{1F600}', metadata: { n: 1.7e308 } });
      const datasets = await lake('GET', `${lab.base}/datasets?pageSize=200`);
      expect(datasets.json().datasets.map((d: { name: string }) => d.name)).toEqual(['\u{1F600}']);

      const doc = await script('POST', '/documents', '{"title":"t\\ud800"}');
      expect(doc.statusCode).toBe(400);
      expect(doc.json().message).toContain('Field title contains an unpaired UTF-16 surrogate');
      const inf = await script('POST', '/documents', '{"title":"t","content":{"x":1e999}}');
      expect(inf.statusCode).toBe(400);
      expect(inf.json().message).toContain('Field content.x is a number too large');
      expect((await script('GET', '/documents')).json().filter((d: { title: string }) => d.title.startsWith('t'))).toEqual([]);

      const user = await space('POST', '/users', '{"twitch_id":"s1","name":"\\ud800"}');
      expect(user.statusCode).toBe(400);
      expect(user.headers['content-type']).toMatch(/^text\/plain/);
      expect(user.body).toContain('Field name contains an unpaired UTF-16 surrogate');
      const prefs = await space('POST', '/users', '{"twitch_id":"s2","name":"n","preferences":{"r":1e400}}');
      expect(prefs.statusCode).toBe(400);
      expect(prefs.body).toContain('Field preferences.r is a number too large');
      expect((await space('GET', '/users?twitch_id=s1')).json()).toEqual([]);
      expect((await space('GET', '/users?twitch_id=s2')).json()).toEqual([]);

      const couch = (method: string, url: string, payload?: string) =>
        t.inject({ method: method as 'PUT', url: `/dreamscript/couch${url}`, headers: { 'x-api-key': scriptKey, 'content-type': 'application/json' }, ...(payload === undefined ? {} : { payload }) });
      expect((await couch('PUT', '/guard')).statusCode).toBe(201);
      for (const body of ['{"a":"\\udfff"}', '{"a":1e400}', '{"\\ud800":1}']) {
        const res = await couch('PUT', '/guard/d1', body);
        expect(res.statusCode).toBe(400);
        expect(res.json().error).toBe('bad_request');
      }
      expect((await couch('POST', '/guard/_bulk_docs', '{"docs":[{"_id":"d2","a":"\\ud800"}]}')).statusCode).toBe(400);
      expect((await couch('GET', '/guard')).json().doc_count).toBe(0);
    });

    it('says that a __proto__ key is refused (a 400 naming it, not "malformed JSON"), on the DreamLake and Dreamscript bodies', async () => {
      const lakeRes = await lake('POST', `${lab.base}/datasets`, '{"name":"p","metadata":{"__proto__":{"x":1}}}');
      expect(lakeRes.statusCode).toBe(400);
      expect(lakeRes.json()).toEqual({ error: 'validation_error', message: 'The body holds a "__proto__" key (or "constructor" with "prototype"), which is refused.' });
      const scriptRes = await script('POST', '/documents', '{"title":"a","constructor":{"prototype":{"x":1}}}');
      expect(scriptRes.statusCode).toBe(400);
      expect(scriptRes.json().error).toBe('validation_error');
      const broken = await script('POST', '/documents', '{"title":"__proto__",');
      expect(broken.json().error).toBe('invalid_json');
      expect((await lake('GET', `${lab.base}/datasets`)).json().datasets.map((d: { name: string }) => d.name)).not.toContain('p');
    });

    it('reads integers in paths and queries in decimal only: 0x1, 1e3, +1, " 1" are a 400, not document 1', async () => {
      const doc = await script('POST', '/documents', JSON.stringify({ title: 'one' }));
      const id = doc.json().id as number;
      expect((await script('GET', `/documents/${id}`)).statusCode).toBe(200);
      for (const form of [`0x${id.toString(16)}`, `${id}e0`, `%2B${id}`, `%20${id}`, `0b${id.toString(2)}`]) {
        const res = await script('GET', `/documents/${form}`);
        expect(res.statusCode, form).toBe(400);
        expect(res.json().error).toBe('validation_error');
      }
      for (const q of ['limit=0x2', 'limit=2e0', 'limit=%202']) expect((await script('GET', `/documents?${q}`)).statusCode, q).toBe(400);
      expect((await script('GET', '/documents?limit=2')).statusCode).toBe(200);
      expect((await lake('GET', '/namespaces/alice/projects?pageSize=0x10')).statusCode).toBe(400);
      expect((await lake('GET', '/namespaces/alice/projects?page=1e0')).statusCode).toBe(400);
      expect((await lake('GET', '/namespaces/alice/projects?pageSize=010')).json().pageSize).toBe(10);
      const couch = await t.inject({ method: 'GET', url: '/dreamscript/couch/guard/_all_docs?limit=0x1', headers: { 'x-api-key': scriptKey } });
      expect(couch.statusCode).toBe(400);
    });

    it('answers a NUL in a path segment with a 404 and in a query value or name with a 400 naming it, on every API', async () => {
      const path = await lake('GET', '/namespaces/a%00b');
      expect(path.statusCode).toBe(404);
      expect(path.json().error).toBe('not_found');
      const query = await lake('GET', `${lab.base}/collections?datasetId=%00`);
      expect(query.statusCode).toBe(400);
      expect(query.json().message).toBe('Query parameter datasetId contains a NUL character.');
      const name = await lake('GET', `${lab.base}/collections?a%00=1`);
      expect(name.statusCode).toBe(400);

      expect((await script('GET', '/documents/1%00')).statusCode).toBe(404);
      const scriptQuery = await script('GET', '/documents?cursor=%00');
      expect(scriptQuery.statusCode).toBe(400);
      expect(scriptQuery.json().message).toBe('Query parameter cursor contains a NUL character.');

      const spacePath = await space('GET', '/users/%00');
      expect(spacePath.statusCode).toBe(404);
      expect(spacePath.headers['content-type']).toMatch(/^text\/plain/);
      const spaceQuery = await space('GET', '/users?name=a%00b');
      expect(spaceQuery.statusCode).toBe(400);
      expect(spaceQuery.body).toBe('Query parameter name contains a NUL character.');
      // A PUT names what it creates: a NUL there is an invalid name (400), not a missing thing.
      const put = await t.inject({ method: 'PUT', url: `${lab.base}/files/a%00b.txt`, headers: { ...lab.alice, 'content-type': 'text/plain' }, payload: 'x' });
      expect(put.statusCode).toBe(400);
      expect(put.json().error).toBe('invalid_path');
      expect((await space('PUT', '/stamps%00', '[]')).statusCode).toBe(400);
      // "%2500" is a percent sign followed by 00, not a NUL.
      expect((await lake('GET', '/namespaces/a%2500b')).statusCode).toBe(404);
      expect((await space('GET', '/users?name=a%2500b')).statusCode).toBe(200);
    });

    it('answers a JWT whose sub or username holds a NUL, or whose sub is huge, with a 401 (and the token holder can still be anyone else)', async () => {
      const sign = (claims: Record<string, unknown>, sub: string) =>
        new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime('1h').sign(new TextEncoder().encode(TEST_JWT_SECRET));
      for (const token of [
        await sign({ username: 'carol' }, 'carol\u0000x'),
        await sign({ username: 'car\u0000ol' }, 'carol'),
        await sign({ username: 'carol' }, 'c'.repeat(3000)),
      ]) {
        const res = await t.inject({ method: 'GET', url: '/auth/me', headers: { authorization: `Bearer ${token}` } });
        expect(res.statusCode).toBe(401);
        expect(res.json().error).toBe('unauthorized');
      }
      const fine = await t.inject({ method: 'GET', url: '/auth/me', headers: { authorization: `Bearer ${await sign({ username: 'carol' }, 'carol')}` } });
      expect(fine.statusCode).toBe(200);
    });

    it('gives Dreamspace text fields their documented maximum length, the same on both databases', async () => {
      const long = 'é'.repeat(2000); // 4,000 bytes: over PostgreSQL's index entry limit
      const cases: [string, string, unknown][] = [
        ['/users', 'twitch_id', { twitch_id: long, name: 'x' }],
        ['/users', 'name', { twitch_id: 'len-1', name: long }],
        ['/events', 'user_name', { event_type: 'plain', message: 'm', occurred_at: '2025-01-01T00:00:00Z', user_name: long }],
      ];
      for (const [path, field, body] of cases) {
        const res = await space('POST', path, JSON.stringify(body));
        expect(res.statusCode, field).toBe(400);
        expect(res.body).toBe(`Field ${field} must be at most 255 characters long.`);
      }
      const doc = await space('POST', '/documents', JSON.stringify({ document_data: 'AAAA', seal: 1 }));
      const stamp = await space('POST', '/stamps', JSON.stringify({ document_id: doc.json().document_id, stamp_type: long, pos_x: 0, pos_y: 0 }));
      expect(stamp.statusCode).toBe(400);
      expect(stamp.body).toBe('Field stamp_type must be at most 255 characters long.');
      // At the limit, multibyte characters included, it is stored on both databases.
      const atLimit = 'é'.repeat(255);
      const user = await space('POST', '/users', JSON.stringify({ twitch_id: atLimit, name: atLimit }));
      expect(user.statusCode).toBe(200);
      expect(user.json().name).toBe(atLimit);
      const message = await space('POST', '/events', JSON.stringify({ event_type: 'plain', message: 'x'.repeat(65_537), occurred_at: '2025-01-01T00:00:00Z' }));
      expect(message.body).toBe('Field message must be at most 65536 characters long.');
    });

    it('refuses a DreamLake node path over 2,048 bytes with a 400 on both databases', async () => {
      const segment = 'é'.repeat(120); // 240 bytes
      const path = `/${Array.from({ length: 9 }, () => segment).join('/')}`; // 2,169 bytes, 1,089 characters
      const res = await lake('POST', `${lab.base}/nodes`, JSON.stringify({ path, kind: 'folder' }));
      expect(res.statusCode).toBe(400);
      expect(res.json().message).toContain('2048 bytes');
    });

    it('answers a 431 with Connection: close, so a keep-alive client does not send on a closed socket', async () => {
      const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
      const port = Number(new URL(address).port);
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1');
        let data = '';
        socket.on('data', (chunk) => (data += chunk.toString()));
        socket.on('end', () => resolve(data));
        socket.on('error', reject);
        socket.write(`GET /health HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
      });
      expect(answer).toMatch(/^HTTP\/1\.1 431 /);
      expect(answer).toMatch(/\r\nConnection: close\r\n/i);
      expect(answer).toContain('"error":"headers_too_large"');
      // A NUL in a header value (an API key, say) never reaches a route: Node's parser refuses it, and the
      // answer closes the connection the same way.
      const nul = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1');
        let data = '';
        socket.on('data', (chunk) => (data += chunk.toString()));
        socket.on('end', () => resolve(data));
        socket.on('error', reject);
        socket.write(`GET /dreamscript/documents HTTP/1.1\r\nHost: x\r\nX-API-Key: ds_\u0000x\r\n\r\n`);
      });
      expect(nul).toMatch(/^HTTP\/1\.1 400 /);
      expect(nul).toMatch(/\r\nConnection: close\r\n/i);
      // A normal request on a fresh connection still works.
      expect((await fetch(`${address}/health`)).status).toBe(200);
    });
  });
}
