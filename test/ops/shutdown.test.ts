import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { signToken } from '../../src/core/auth/jwt.js';
import { drainOf } from '../../src/core/drain.js';
import { createDatabase, type DialectName } from '../../src/core/db/database.js';
import { createTestApp, DIALECTS, TEST_JWT_SECRET } from '../helpers/app.js';
import { runCli, serverStorage, startServerProcess } from '../helpers/server-process.js';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One HTTP request through `agent`; `body` may be an async generator (a slow upload). */
function send(
  agent: http.Agent,
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | AsyncIterable<Buffer> } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    const { body } = options;
    if (body === undefined || typeof body === 'string') {
      req.end(body);
      return;
    }
    void (async () => {
      for await (const chunk of body) req.write(chunk);
      req.end();
    })().catch(reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(DIALECTS)('SIGTERM under keep-alive traffic (%s)', (dialect: DialectName) => {
  it('answers every in-flight request with Connection: close, closes idle sockets, exits 0 with the database closed', async () => {
    const { dataDir, database } = await serverStorage(dialect, 'shutdown');
    const common = ['--data', dataDir, '--database', database];
    // A deadline far beyond what the drain needs: exit 0 and "stopped cleanly" prove nothing waited for it.
    const env = { DREAMLAKE_JWT_SECRET: TEST_JWT_SECRET, DREAMLAKE_SHUTDOWN_TIMEOUT: '60', DREAMSCRIPT_RATE_LIMIT: '0' };
    const keyRun = await runCli(['keys', 'create', ...common], env);
    expect(keyRun.code).toBe(0);
    const apiKey = keyRun.stdout.trim();
    const server = await startServerProcess(common, env);
    const { url } = server;
    const bearer = { authorization: `Bearer ${await signToken(TEST_JWT_SECRET, 'alice', 1)}` };

    const idleAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const uploadAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const pollAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const created = await send(idleAgent, `${url}/namespaces/alice/projects`, {
      method: 'POST',
      headers: { ...bearer, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Lab' }),
    });
    expect(created.status).toBe(201);
    expect(created.headers.connection).toBe('keep-alive');
    // The keep-alive sockets of these agents are warm: the in-flight requests below go over reused connections.
    expect((await send(uploadAgent, `${url}/health`)).status).toBe(200);
    expect((await send(pollAgent, `${url}/health`)).status).toBe(200);

    // A slow upload: 20 chunks of 64 KiB, 100 ms apart; the server gets SIGTERM while it is in flight.
    const chunk = Buffer.alloc(64 * 1024, 7);
    const chunks = 20;
    const whole = createHash('sha256');
    for (let i = 0; i < chunks; i++) whole.update(chunk);
    let sent = 0;
    async function* slowly() {
      for (let i = 0; i < chunks; i++) {
        sent++;
        yield chunk;
        await sleep(100);
      }
    }
    const upload = send(uploadAgent, `${url}/namespaces/alice/projects/lab/files/big.bin`, {
      method: 'PUT',
      headers: { ...bearer, 'content-type': 'application/octet-stream', 'content-length': String(chunk.length * chunks) },
      body: slowly(),
    });
    // A longpoll that waits for a change that never comes (until the server ends the wait on shutdown).
    const longpoll = send(pollAgent, `${url}/dreamscript/changes?feed=longpoll&since=now&timeout=60000`, {
      headers: { 'x-api-key': apiKey },
    });
    await sleep(500);
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThan(chunks);

    const started = Date.now();
    server.child.kill('SIGTERM');
    const [uploaded, polled] = await Promise.all([upload, longpoll]);
    const exit = await server.exited;
    const elapsed = Date.now() - started;

    expect(uploaded.status, uploaded.body).toBe(201);
    expect(JSON.parse(uploaded.body)).toMatchObject({ sha256: whole.digest('hex'), size: chunk.length * chunks });
    expect(uploaded.headers.connection).toBe('close');
    expect(polled.status, polled.body).toBe(200);
    expect(JSON.parse(polled.body)).toMatchObject({ results: [] });
    expect(polled.headers.connection).toBe('close');

    expect(exit.code, exit.stdout + exit.stderr).toBe(0);
    expect(exit.stdout).toMatch(/stopped cleanly/);
    // Well before the deadline: nothing waited for a keep-alive timeout (generous: CI machines are busy).
    expect(elapsed).toBeLessThan(30_000);
    if (dialect === 'sqlite') {
      expect(readdirSync(dataDir).filter((f) => f.startsWith('dreamlake.sqlite'))).toEqual(['dreamlake.sqlite']);
      expect(existsSync(`${database}-wal`)).toBe(false);
    }
    // What was acknowledged is stored.
    const check = createDatabase(database, { poolSize: 1 });
    try {
      const row = await check.db.selectFrom('nodes').select(['sha256', 'size']).where('name', '=', 'big.bin').executeTakeFirst();
      expect(row).toMatchObject({ sha256: JSON.parse(uploaded.body).sha256 });
    } finally {
      await check.close();
    }
    for (const agent of [idleAgent, uploadAgent, pollAgent]) agent.destroy();
    // Nothing listens any more.
    await expect(send(new http.Agent(), `${url}/health`)).rejects.toThrow(/ECONNREFUSED/);
  }, 180_000);

  it('cuts a request that outlives shutdown_timeout, still closes the database, and exits 1', async () => {
    const { dataDir, database } = await serverStorage(dialect, 'shutdown');
    const server = await startServerProcess(['--data', dataDir, '--database', database], {
      DREAMLAKE_JWT_SECRET: TEST_JWT_SECRET,
      DREAMLAKE_SHUTDOWN_TIMEOUT: '1',
    });
    const bearer = { authorization: `Bearer ${await signToken(TEST_JWT_SECRET, 'alice', 1)}` };
    const agent = new http.Agent({ keepAlive: true });
    expect((await send(agent, `${server.url}/namespaces/alice/projects`, {
      method: 'POST',
      headers: { ...bearer, 'content-type': 'application/json' },
      body: '{"name":"Lab"}',
    })).status).toBe(201);
    let stop = false;
    async function* endless() {
      while (!stop) {
        yield Buffer.alloc(1024);
        await sleep(50);
      }
    }
    const upload = send(agent, `${server.url}/namespaces/alice/projects/lab/files/slow.bin`, {
      method: 'PUT',
      headers: { ...bearer, 'content-type': 'application/octet-stream', 'content-length': String(1024 * 1024) },
      body: endless(),
    }).catch((err: Error) => err);
    await sleep(300);
    const started = Date.now();
    server.child.kill('SIGTERM');
    const exit = await server.exited;
    stop = true;
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(await upload).toBeInstanceOf(Error);
    expect(exit.code).toBe(1);
    expect(exit.stdout).toMatch(/cutting them/);
    // Printed only once close() has finished, the database included (not the last-resort exit).
    expect(exit.stdout).toMatch(/stopped \(requests were cut\)/);
    if (dialect === 'sqlite') expect(existsSync(`${database}-wal`)).toBe(false);
    agent.destroy();
  }, 180_000);
});

describe.each(DIALECTS)('while draining (%s)', (dialect: DialectName) => {
  it('answers new requests 503 with Retry-After and Connection: close, in each API\'s own error format', async () => {
    const t = await createTestApp(dialect, { DREAMLAKE_SHUTDOWN_TIMEOUT: '7' });
    try {
      drainOf(t.app)!.begin();
      const lake = await t.inject({ method: 'GET', url: '/auth/me', headers: await t.auth('alice') });
      expect(lake.statusCode).toBe(503);
      expect(lake.headers['retry-after']).toBe('7');
      expect(lake.headers.connection).toBe('close');
      expect(lake.json()).toMatchObject({ error: 'service_unavailable' });
      const space = await t.inject({ method: 'GET', url: '/dreamspace/users', headers: { 'x-api-key': 'SecureToken' } });
      expect(space.statusCode).toBe(503);
      expect(space.headers['retry-after']).toBe('7');
      expect(space.headers['content-type']).toMatch(/^text\/plain/);
      const script = await t.inject({ method: 'GET', url: '/dreamscript/projects', headers: { 'x-api-key': 'nope' } });
      expect(script.statusCode).toBe(503);
      expect(script.json()).toMatchObject({ error: 'service_unavailable' });
    } finally {
      await t.close();
    }
  });
});
