import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../src/app.js';
import { signToken } from '../../src/core/auth/jwt.js';
import { createDatabase, type DialectName } from '../../src/core/db/database.js';
import { scriptDb } from '../../src/script/db.js';
import { createKey } from '../../src/script/keys/repo.js';
import { createTestApp, DIALECTS, TEST_JWT_SECRET, type TestApp } from '../helpers/app.js';
import { createTestSchema, PG_URL } from '../helpers/pg.js';

const ORIGIN = 'https://app.example';

describe.each(DIALECTS)('CORS (%s)', (dialect: DialectName) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect, { DREAMLAKE_CORS_ORIGINS: `${ORIGIN}, https://other.example` });
  });
  afterAll(async () => t.close());

  const preflight = (url: string, origin = ORIGIN) =>
    t.inject({
      method: 'OPTIONS',
      url,
      headers: { origin, 'access-control-request-method': 'PATCH', 'access-control-request-headers': 'authorization, x-api-key, content-type' },
    });

  it('answers preflights on all three APIs (and paths no route has yet, such as /dreamscript/couch/…) before any auth', async () => {
    for (const url of ['/namespaces/alice/projects', '/dreamscript/documents/1', '/dreamspace/users/1', '/dreamscript/couch/project-1/doc']) {
      const res = await preflight(url);
      expect(res.statusCode, url).toBe(204);
      expect(res.headers['access-control-allow-origin'], url).toBe(ORIGIN);
      expect(String(res.headers['access-control-allow-methods'])).toContain('PATCH');
      expect(String(res.headers['access-control-allow-headers']).toLowerCase()).toContain('x-api-key');
      // The CouchDB endpoint is credentialed (Basic auth): its preflight says so, like its answers.
      expect(res.headers['access-control-allow-credentials'], url).toBe(url.startsWith('/dreamscript/couch') ? 'true' : undefined);
    }
  });

  it('answers the CouchDB endpoint with the origin echoed, never `*`, also when every origin is allowed', async () => {
    const any = await createTestApp(dialect, { DREAMLAKE_CORS_ORIGINS: '*' });
    try {
      const headers = { origin: ORIGIN, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization' };
      const couch = await any.inject({ method: 'OPTIONS', url: '/dreamscript/couch/db/doc', headers });
      expect([couch.statusCode, couch.headers['access-control-allow-origin'], couch.headers['access-control-allow-credentials']]).toEqual([204, ORIGIN, 'true']);
      expect(String(couch.headers['access-control-expose-headers'])).toContain('x-couch-update-newrev');
      const lake = await any.inject({ method: 'OPTIONS', url: '/namespaces', headers });
      expect([lake.statusCode, lake.headers['access-control-allow-origin'], lake.headers['access-control-allow-credentials']]).toEqual([204, '*', undefined]);
    } finally {
      await any.close();
    }
  });

  it('tags real answers for allowed origins only, and exposes the paging and request-ID headers', async () => {
    const ok = await t.inject({ method: 'GET', url: '/auth/me', headers: { origin: ORIGIN, ...(await t.auth('alice')) } });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(String(ok.headers['access-control-expose-headers'])).toContain('x-next');
    const stranger = await t.inject({ method: 'GET', url: '/auth/me', headers: { origin: 'https://evil.example', ...(await t.auth('alice')) } });
    expect(stranger.headers['access-control-allow-origin']).toBeUndefined();
    expect((await preflight('/namespaces', 'https://evil.example')).headers['access-control-allow-origin']).toBeUndefined();
  });

  it('is off by default: no CORS headers at all', async () => {
    const plain = await createTestApp(dialect);
    try {
      const res = await plain.inject({ method: 'GET', url: '/health', headers: { origin: ORIGIN } });
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      const pre = await plain.inject({ method: 'OPTIONS', url: '/namespaces', headers: { origin: ORIGIN, 'access-control-request-method': 'GET' } });
      expect(pre.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await plain.close();
    }
  });
});

/** Parses the Prometheus text format into `name{labels}` → value. */
function parseMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    values.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return values;
}

describe.each(DIALECTS)('GET /metrics (%s)', (dialect: DialectName) => {
  let t: TestApp;
  const token = 'metrics-token-for-tests';
  beforeAll(async () => {
    t = await createTestApp(dialect, { DREAMLAKE_METRICS_TOKEN: token, DREAMSCRIPT_RATE_LIMIT: '1' });
  });
  afterAll(async () => t.close());

  const scrape = async () => {
    const res = await t.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return parseMetrics(res.body);
  };

  it('needs the token', async () => {
    expect((await t.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    expect((await t.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer wrong' } })).statusCode).toBe(401);
  });

  it('counts requests per route, times them and the database, counts blob bytes, rate-limit rejections and longpoll waiters', async () => {
    const headers = await t.auth('alice');
    expect((await t.inject({ method: 'GET', url: '/auth/me', headers })).statusCode).toBe(200);
    expect((await t.inject({ method: 'POST', url: '/namespaces/alice/projects', headers, payload: { name: 'Lab' } })).statusCode).toBe(201);
    const content = 'x'.repeat(1000);
    const put = await t.inject({ method: 'PUT', url: '/namespaces/alice/projects/lab/files/a.txt', headers, payload: content });
    expect(put.statusCode).toBe(201);
    const got = await t.inject({ method: 'GET', url: `/namespaces/alice/projects/lab/nodes/${put.json().id}/content`, headers });
    expect(got.body).toBe(content);

    const { secret } = await createKey(scriptDb(t.database), { name: 'metrics' });
    const key = { 'x-api-key': secret };
    // A longpoll waiting while we scrape (rate limit 1/s, bursts of 2: this is the first request of the key).
    const waiting = t.inject({ method: 'GET', url: '/dreamscript/changes?feed=longpoll&since=now&timeout=1500', headers: key });
    let m = await scrape();
    for (let i = 0; i < 20 && m.get('dreamlake_longpoll_waiters') !== 1; i++) {
      await new Promise((r) => setTimeout(r, 50));
      m = await scrape();
    }
    expect(m.get('dreamlake_longpoll_waiters')).toBe(1);
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await t.inject({ method: 'GET', url: '/dreamscript/projects', headers: key })).statusCode);
    expect(statuses).toContain(429);
    await waiting;

    m = await scrape();
    expect(m.get('dreamlake_http_requests_total{method="GET",route="/auth/me",status="200"}')).toBe(1);
    expect(m.get('dreamlake_http_request_duration_seconds_count{method="GET",route="/auth/me"}')).toBe(1);
    expect(m.get('dreamlake_http_requests_total{method="PUT",route="/namespaces/:slug/projects/:projectSlug/files/*",status="201"}')).toBe(1);
    expect(m.get('dreamlake_rate_limited_total{route="/dreamscript/projects"}')).toBe(statuses.filter((s) => s === 429).length);
    expect(m.get('dreamlake_blob_bytes_in_total')).toBe(1000);
    expect(m.get('dreamlake_blob_bytes_out_total')).toBe(1000);
    expect(m.get('dreamlake_db_query_duration_seconds_count')).toBeGreaterThan(3);
    expect(m.get('dreamlake_longpoll_waiters')).toBe(0);
    expect(m.get('dreamlake_db_pool_connections{state="total"}')).toBeGreaterThanOrEqual(1);
    expect(m.has('dreamlake_process_cpu_seconds_total')).toBe(true);
  });

  it('counts download bytes without giving up the filesystem store\'s reused buffers', async () => {
    const headers = await t.auth('bob');
    expect((await t.inject({ method: 'POST', url: '/namespaces/bob/projects', headers, payload: { name: 'Big' } })).statusCode).toBe(201);
    const content = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    const put = await t.inject({ method: 'PUT', url: '/namespaces/bob/projects/big/files/big.bin', headers, payload: content });
    expect(put.statusCode).toBe(201);
    const base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const get = async () => Buffer.from(await (await fetch(`${base}/namespaces/bob/projects/big/nodes/${put.json().id}/content`, { headers })).arrayBuffer());
    const before = (await scrape()).get('dreamlake_blob_bytes_out_total') ?? 0;
    expect((await get()).equals(content)).toBe(true); // warms the pool
    const allocate = vi.spyOn(Buffer, 'allocUnsafeSlow');
    try {
      expect((await get()).equals(content)).toBe(true);
      // A counting Transform around the stream would make it read each 256 KiB chunk into a fresh buffer.
      expect(allocate.mock.calls.filter(([size]) => size === 256 * 1024)).toEqual([]);
    } finally {
      allocate.mockRestore();
    }
    expect((await scrape()).get('dreamlake_blob_bytes_out_total')).toBe(before + 2 * content.length);
  });

  it('has every metric that docs/grafana-dashboard.json queries', async () => {
    const dashboard = readFileSync(new URL('../../docs/grafana-dashboard.json', import.meta.url), 'utf8');
    const used = new Set([...dashboard.matchAll(/dreamlake_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, '')));
    expect(used.size).toBeGreaterThan(8);
    const res = await t.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${token}` } });
    for (const name of used) expect(res.body, name).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
  });

  it('is off, and says how to turn it on, when neither a token nor a port is set', async () => {
    const plain = await createTestApp(dialect);
    try {
      const res = await plain.inject({ method: 'GET', url: '/metrics' });
      expect(res.statusCode).toBe(404);
      expect(res.json().message).toMatch(/metrics_token.*metrics_port/);
    } finally {
      await plain.close();
    }
  });
});

describe.each(DIALECTS)('request log (%s)', (dialect: DialectName) => {
  it('writes one JSON line per request with method, route, status, ms, request ID and user or key, never secrets', async () => {
    const t = await createTestApp(dialect);
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _e, done) {
        for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line));
        done();
      },
    });
    const schema = dialect === 'postgres' ? await createTestSchema() : undefined;
    const database = createDatabase(dialect === 'postgres' ? PG_URL! : t.config.databaseUrl, { schema, poolSize: 2 });
    const app = await buildApp(t.config, { database, logger: { level: 'info', stream } });
    try {
      const jwt = await signToken(TEST_JWT_SECRET, 'carol', 1);
      const me = await app.inject({ method: 'GET', url: '/auth/me?x=1', headers: { authorization: `Bearer ${jwt}`, 'x-request-id': 'req-42' } });
      expect(me.statusCode).toBe(200);
      const { key, secret } = await createKey(scriptDb(database), { name: 'log' });
      expect((await app.inject({ method: 'GET', url: '/dreamscript/projects', headers: { 'x-api-key': secret } })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/nowhere' })).statusCode).toBe(404);

      const requests = lines.filter((l) => l.status !== undefined);
      expect(requests).toHaveLength(3);
      expect(requests[0]).toMatchObject({ reqId: 'req-42', method: 'GET', route: '/auth/me', path: '/auth/me', status: 200, user: me.json().id });
      expect(typeof requests[0].ms).toBe('number');
      expect(requests[1]).toMatchObject({ method: 'GET', route: '/dreamscript/projects', status: 200, key: key.id });
      expect(requests[2]).toMatchObject({ method: 'GET', path: '/nowhere', status: 404 });
      // Fastify's own "incoming request" / "request completed" lines are gone.
      expect(lines.filter((l) => l.msg === 'incoming request' || l.msg === 'request completed')).toHaveLength(0);
      const all = JSON.stringify(lines);
      expect(all).not.toContain(jwt);
      expect(all).not.toContain(secret);
    } finally {
      await app.close();
      await t.close();
    }
  });
});
