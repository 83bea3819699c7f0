import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/core/config.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { CONSOLE_DIST, consoleCsp } from '../../src/console/serve.js';
import { createTestApp, DIALECTS, TEST_JWT_SECRET, type TestApp } from '../helpers/app.js';

const built = existsSync(`${CONSOLE_DIST}index.html`);
if (!built) console.warn('Skipping the console asset tests: console/dist is not built (npm run build:console).');

describe.each(DIALECTS)('console serving (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t.close());

  it('redirects / to the console for browsers; JSON clients keep the JSON 404', async () => {
    const html = await t.inject({ url: '/', headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    expect(html.statusCode).toBe(302);
    expect(html.headers.location).toBe('/console/');
    const json = await t.inject({ url: '/', headers: { accept: 'application/json' } });
    expect(json.statusCode).toBe(404);
    expect(json.json()).toMatchObject({ error: 'not_found' });
    const bare = await t.inject({ url: '/console' });
    expect(bare.statusCode).toBe(302);
    expect(bare.headers.location).toBe('/console/');
  });

  it('tells the app where the APIs are mounted', async () => {
    const res = await t.inject({ url: '/console/config.json' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ mounts: { lake: '/', script: '/dreamscript', space: '/dreamspace', console: '/console' } });
  });

  it.runIf(built)('serves index.html uncached with a strict CSP, deep links included', async () => {
    for (const url of ['/console/', '/console/lake/alice/robots/files/a/b', '/console/script/projects/3']) {
      const res = await t.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.headers['cache-control']).toBe('no-cache');
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(res.body).toContain('<div id="root">');
      // Asset URLs are absolute under the mount, so a deep link loads them too; no inline script.
      expect(res.body).toMatch(/src="\/console\/assets\/index-[\w-]+\.js"/);
      expect(res.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    }
  });

  it.runIf(built)('caches hashed assets for a year; a missing asset is a 404, not the app', async () => {
    const asset = readdirSync(`${CONSOLE_DIST}assets`).find((f) => f.endsWith('.js'));
    const res = await t.inject({ url: `/console/assets/${asset}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/javascript/);
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const missing = await t.inject({ url: '/console/assets/nope-123.js' });
    expect(missing.statusCode).toBe(404);
    const index = await t.inject({ url: '/console/index.html' });
    expect(index.statusCode).toBe(200);
    expect(index.headers['cache-control']).toBe('no-cache');
  });

  it('adds nothing to the API routes (no CSP hook outside the console)', async () => {
    const res = await t.inject({ url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-security-policy']).toBeUndefined();
  });
});

describe('console mount', () => {
  it('moves with DREAMLAKE_MOUNT_CONSOLE and switches off', async () => {
    const moved = await createTestApp('sqlite', { DREAMLAKE_MOUNT_CONSOLE: '/ui' });
    try {
      expect((await moved.inject({ url: '/', headers: { accept: 'text/html' } })).headers.location).toBe('/ui/');
      expect((await moved.inject({ url: '/ui/config.json' })).json().mounts.console).toBe('/ui');
      if (built) expect((await moved.inject({ url: '/ui/lake/x' })).body).toContain('src="/ui/assets/');
      expect((await moved.inject({ url: '/console/' })).statusCode).toBe(404);
    } finally {
      await moved.close();
    }
    const off = await createTestApp('sqlite', { DREAMLAKE_MOUNT_CONSOLE: 'off' });
    try {
      expect((await off.inject({ url: '/', headers: { accept: 'text/html' } })).statusCode).toBe(404);
      expect((await off.inject({ url: '/console/' })).statusCode).toBe(404);
    } finally {
      await off.close();
    }
    await expect(createTestApp('sqlite', { DREAMLAKE_MOUNT_CONSOLE: '/' })).rejects.toThrow(/mount_console/);
  });

  it('does not redirect / when DreamLake is mounted elsewhere', async () => {
    const t = await createTestApp('sqlite', { DREAMLAKE_MOUNT_DREAMLAKE: '/lake' });
    try {
      expect((await t.inject({ url: '/', headers: { accept: 'text/html' } })).statusCode).toBe(404);
      expect((await t.inject({ url: '/console/config.json' })).json().mounts.lake).toBe('/lake');
    } finally {
      await t.close();
    }
  });
});

describe('dreamlake login-link', () => {
  it('prints the console URL with a token in the fragment that the server accepts', async () => {
    const data = mkdtempSync(join(tmpdir(), 'dreamlake-link-'));
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      await main(['node', 'dreamlake', 'login-link', 'Alice', '--days', '2', '--data', data, '--port', '9999']);
      const url = String(log.mock.calls[0][0]);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:9999\/console\/#token=[\w-]+\.[\w-]+\.[\w-]+$/);
      const token = url.split('#token=')[1];
      // A server on the same data directory (same generated secret) accepts it.
      const app = await buildApp(loadConfig({ data }, {}), { logger: false });
      try {
        const me = await app.inject({ url: '/auth/me', headers: { authorization: `Bearer ${token}` } });
        expect(me.statusCode).toBe(200);
        expect(me.json()).toMatchObject({ username: 'alice' });
      } finally {
        await app.close();
      }
      await main(['node', 'dreamlake', 'login-link', 'bob', '--data', data, '--base-url', 'https://lake.example.com/']);
      expect(String(log.mock.calls[1][0])).toMatch(/^https:\/\/lake\.example\.com\/console\/#token=/);
      await expect(main(['node', 'dreamlake', 'login-link', 'bob', '--data', data, '--days', 'x'])).rejects.toThrow(/days/);
    } finally {
      log.mockRestore();
      rmSync(data, { recursive: true, force: true });
    }
  });
});

describe('console CSP', () => {
  it('lets media come from the public URL signed links are built on', async () => {
    const t = await createTestApp('sqlite', { DREAMLAKE_PUBLIC_URL: 'https://files.example.com' });
    try {
      const csp = String((await t.inject({ url: '/console/config.json' })).headers['content-security-policy']);
      expect(csp).toContain("media-src 'self' blob: https://files.example.com");
      expect(csp).toContain("script-src 'self';");
    } finally {
      await t.close();
    }
  });
});

describe('console CSP with S3 storage', () => {
  // Signed part URLs (console uploads PUT their parts there) and signed downloads point at the bucket.
  const cspFor = (env: Record<string, string>) =>
    consoleCsp(loadConfig({ data: tmpdir() }, { DREAMLAKE_JWT_SECRET: TEST_JWT_SECRET, DREAMLAKE_STORAGE_BACKEND: 's3', DREAMLAKE_S3_BUCKET: 'lake', ...env }));

  it('allows the S3 endpoint (path style) for connect-src and media-src', () => {
    const csp = cspFor({ DREAMLAKE_S3_ENDPOINT: 'http://127.0.0.1:9000' });
    expect(csp).toContain("connect-src 'self' http://127.0.0.1:9000;");
    expect(csp).toContain("media-src 'self' blob: http://127.0.0.1:9000;");
  });

  it('allows the virtual-hosted bucket origin, and AWS when no endpoint is set', () => {
    expect(cspFor({ DREAMLAKE_S3_ENDPOINT: 'https://s3.example.com', DREAMLAKE_S3_FORCE_PATH_STYLE: 'false' })).toContain(
      "connect-src 'self' https://s3.example.com https://lake.s3.example.com;",
    );
    expect(cspFor({ DREAMLAKE_S3_REGION: 'eu-west-1' })).toContain(
      "connect-src 'self' https://s3.eu-west-1.amazonaws.com https://lake.s3.eu-west-1.amazonaws.com https://lake.s3.amazonaws.com;",
    );
  });

  it('adds nothing for the filesystem store (part URLs are on the server itself)', async () => {
    const t = await createTestApp('sqlite');
    try {
      const csp = String((await t.inject({ url: '/console/config.json' })).headers['content-security-policy']);
      expect(csp).toContain("connect-src 'self';");
    } finally {
      await t.close();
    }
  });
});

describe('dreamlake serve', () => {
  it('prints the console URL at start', async () => {
    const data = mkdtempSync(join(tmpdir(), 'dreamlake-serve-'));
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const { startServer } = await import('../../src/server.js');
    const before = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') };
    const app = await startServer(loadConfig({ data, port: 0, logLevel: 'silent' }, { DREAMLAKE_JWT_SECRET: 'x'.repeat(32) }));
    try {
      const port = (app.server.address() as { port: number }).port;
      const lines = log.mock.calls.map((c) => String(c[0]));
      expect(lines).toContain(`DreamLake listening on http://127.0.0.1:${port}`);
      expect(lines.some((l) => l.startsWith(`Console: http://127.0.0.1:${port}/console/ `))).toBe(true);
    } finally {
      log.mockRestore();
      await app.close();
      // Only the shutdown handlers startServer added, not the test runner's.
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        for (const l of process.listeners(signal)) if (!before[signal].includes(l)) process.removeListener(signal, l);
      }
      rmSync(data, { recursive: true, force: true });
    }
  });
});
