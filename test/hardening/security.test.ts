import { createHash } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.js';
import { createCursorCodec } from '../../src/core/pagination.js';
import { createTestApp, DIALECTS, TEST_JWT_SECRET, type TestApp } from '../helpers/app.js';
import { createScriptTestApp, type ScriptTestApp } from '../script/helpers.js';

const noExp = (username: string) =>
  new SignJWT({ username }).setProtectedHeader({ alg: 'HS256' }).setSubject(username).setIssuedAt().sign(new TextEncoder().encode(TEST_JWT_SECRET));

describe('JWTs without exp', () => {
  let strict: TestApp;
  let lenient: TestApp;
  beforeAll(async () => {
    strict = await createTestApp('sqlite');
    lenient = await createTestApp('sqlite', { DREAMLAKE_ALLOW_TOKENS_WITHOUT_EXP: 'true' });
  });
  afterAll(async () => {
    await strict.close();
    await lenient.close();
  });

  it('are refused with a 401 by default, naming the setting that accepts them', async () => {
    const res = await strict.inject({ method: 'GET', url: '/auth/me', headers: { authorization: `Bearer ${await noExp('dave')}` } });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: 'unauthorized', message: expect.stringContaining('allow_tokens_without_exp') });
    // Tokens with exp are unaffected.
    expect((await strict.inject({ method: 'GET', url: '/auth/me', headers: await strict.auth('dave') })).statusCode).toBe(200);
  });

  it('are accepted when [auth] allow_tokens_without_exp is on', async () => {
    const res = await lenient.inject({ method: 'GET', url: '/auth/me', headers: { authorization: `Bearer ${await noExp('erin')}` } });
    expect(res.statusCode).toBe(200);
    expect(res.json().username).toBe('erin');
  });

  it('reads the setting from env and INI, off by default, and refuses a value that is not a boolean', () => {
    expect(loadConfig({ config: undefined }, {}).auth.allowTokensWithoutExp).toBe(false);
    expect(loadConfig({}, { DREAMLAKE_ALLOW_TOKENS_WITHOUT_EXP: '1' }).auth.allowTokensWithoutExp).toBe(true);
    expect(loadConfig({}, { DREAMLAKE_ALLOW_TOKENS_WITHOUT_EXP: 'off' }).auth.allowTokensWithoutExp).toBe(false);
    expect(() => loadConfig({}, { DREAMLAKE_ALLOW_TOKENS_WITHOUT_EXP: 'maybe' })).toThrow(/allow_tokens_without_exp must be true or false/);
  });
});

for (const dialect of DIALECTS) {
  describe(`Dreamscript x-next cursors are signed with the server's secret (${dialect})`, () => {
    let s: ScriptTestApp;
    let key: string;
    beforeAll(async () => {
      s = await createScriptTestApp(dialect);
      key = await s.key();
      for (const title of ['a', 'b', 'c']) {
        expect((await s.call(key, { method: 'POST', url: '/documents', payload: { title } })).statusCode).toBe(201);
      }
    });
    afterAll(() => s.close());

    const get = (url: string) => s.call(key, { method: 'GET', url });
    const cursorOf = (next: string) => decodeURIComponent(new URL(next, 'http://x').searchParams.get('cursor')!);

    it('follows a genuine cursor', async () => {
      const first = await get('/documents?limit=1');
      const next = String(first.headers['x-next']);
      const second = await get(next.replace(/^\/dreamscript/, ''));
      expect(second.statusCode).toBe(200);
      expect(second.json()[0].id).toBeGreaterThan(first.json()[0].id);
    });

    it('refuses an edited cursor, one with the old unkeyed checksum, and one signed with another secret (400)', async () => {
      const cursor = cursorOf(String((await get('/documents?limit=1')).headers['x-next']));
      const [body, mac] = cursor.split('.');
      const edited = Buffer.from(JSON.stringify({ k: 'documents', after: 0 })).toString('base64url');
      const unkeyed = createHash('sha256').update(`dreamlake-cursor:${edited}`).digest('base64url').slice(0, 12);
      const forged = createCursorCodec('some-other-secret').encode({ k: 'documents', after: 0 });
      for (const bad of [`${edited}.${mac}`, `${edited}.${unkeyed}`, forged, `${body}.${mac}x`, `${body}`, `${body}.${mac}.x`]) {
        const res = await get(`/documents?limit=1&cursor=${encodeURIComponent(bad)}`);
        expect(res.statusCode, bad).toBe(400);
        expect(res.json()).toEqual({ error: 'invalid_cursor', message: 'Invalid cursor.' });
      }
    });

    it('keeps cursors valid across servers sharing the secret (a peer on the same data)', async () => {
      const cursor = cursorOf(String((await get('/documents?limit=1')).headers['x-next']));
      const peer = await s.peer();
      const res = await peer.inject({ method: 'GET', url: `/dreamscript/documents?limit=1&cursor=${encodeURIComponent(cursor)}`, headers: { 'x-api-key': key } });
      expect(res.statusCode).toBe(200);
    });
  });
}

describe('the cursor codec', () => {
  it('depends on the secret', () => {
    const a = createCursorCodec(TEST_JWT_SECRET).encode({ k: 'x', after: 5 });
    expect(createCursorCodec(TEST_JWT_SECRET).encode({ k: 'x', after: 5 })).toBe(a);
    expect(createCursorCodec('another').encode({ k: 'x', after: 5 })).not.toBe(a);
    expect(createCursorCodec(TEST_JWT_SECRET).decode(a, (v): v is { after: number } => typeof v === 'object')).toEqual({ k: 'x', after: 5 });
  });
});
