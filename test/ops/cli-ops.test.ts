import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import SqliteDatabase from 'better-sqlite3';
import { decodeJwt, jwtVerify } from 'jose';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../src/app.js';
import { main } from '../../src/cli/main.js';
import { loadConfig } from '../../src/core/config.js';
import type { DialectName } from '../../src/core/db/database.js';
import { scriptDb } from '../../src/script/db.js';
import { createKey } from '../../src/script/keys/repo.js';
import { createTestApp, DIALECTS, TEST_JWT_SECRET } from '../helpers/app.js';
import { complete, hash16, init, partUrls, putPart } from '../lake/multipart-helpers.js';
import { runCli, startServerProcess } from '../helpers/server-process.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'dreamlake-cli-ops-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

class ExitCalled extends Error {
  constructor(readonly code: number) {
    super(`process.exit(${code})`);
  }
}

/** Runs the command in this process, capturing what it writes and the code it exits with. */
/** The URL a spawned server says it listens on, read from its output so far (`output()`). */
function listeningUrl(child: ChildProcess, output: () => string, pattern = /DreamLake listening on (http:\/\/\S+)/): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start: ${output()}`)), 90_000);
    child.stdout!.on('data', () => {
      const m = pattern.exec(output());
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
}

async function mainCapturing(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  vi.spyOn(process, 'exit').mockImplementation((code?: string | number | null) => {
    throw new ExitCalled(Number(code ?? 0));
  });
  try {
    await main(['node', 'dreamlake', ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    if (err instanceof ExitCalled) return { code: err.code, stdout, stderr };
    throw err;
  } finally {
    vi.restoreAllMocks();
  }
}

describe('dreamlake with no command, --version, --help', () => {
  it('prints the version', async () => {
    const run = await mainCapturing(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(VERSION);
  });

  it('bare dreamlake prints the help and succeeds; --help lists the environment variables', async () => {
    const bare = await mainCapturing([]);
    expect(bare.code).toBe(0);
    expect(bare.stdout).toMatch(/Usage: dreamlake/);
    expect(bare.stdout).toMatch(/serve/);
    for (const args of [['--help'], ['serve', '--help']]) {
      const help = await mainCapturing(args);
      expect(help.code).toBe(0);
      for (const name of ['DREAMLAKE_PORT', 'DREAMLAKE_DATA_DIR', 'DREAMLAKE_DATABASE_URL', 'DREAMLAKE_SHUTDOWN_TIMEOUT', 'DREAMLAKE_CORS_ORIGINS', 'DREAMLAKE_METRICS_TOKEN', 'DREAMSPACE_APITOKEN']) {
        expect(help.stdout, `${args.join(' ')}: ${name}`).toContain(name);
      }
    }
    const unknown = await mainCapturing(['serv']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown command 'serv'/);
  });
});

describe('start-up errors say what to do', () => {
  let blocker: Server | undefined;
  afterEach(() => blocker?.close());

  it('port in use: names the port, --port and DREAMLAKE_PORT, and leaves the database closed', async () => {
    blocker = createServer();
    const port = await new Promise<number>((resolve) =>
      blocker!.listen(0, '127.0.0.1', () => resolve((blocker!.address() as { port: number }).port)),
    );
    const data = tempDir();
    const run = await runCli(['serve', '--port', String(port), '--data', data]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`Port ${port} on 127.0.0.1 is already in use`);
    expect(run.stderr).toContain('--port');
    expect(run.stderr).toContain('DREAMLAKE_PORT');
    expect(run.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect(existsSync(join(data, 'dreamlake.sqlite-wal'))).toBe(false);
  }, 120_000);

  it('database unreachable: the URL without its password, and the setting it came from', async () => {
    const data = tempDir();
    const url = 'postgres://dreamer:hunter2@127.0.0.1:1/lake';
    const byFlag = main(['node', 'dreamlake', 'serve', '--port', '0', '--data', data, '--database', url]);
    await expect(byFlag).rejects.toThrow(/^Cannot use the PostgreSQL database postgres:\/\/dreamer@127\.0\.0\.1:1\/lake \(set by --database\): .*ECONNREFUSED/);
    await expect(byFlag).rejects.not.toThrow(/hunter2/);
    const previous = process.env.DREAMLAKE_DATABASE_URL;
    process.env.DREAMLAKE_DATABASE_URL = url;
    try {
      const byEnv = main(['node', 'dreamlake', 'serve', '--port', '0', '--data', data]);
      await expect(byEnv).rejects.toThrow(/\(set by DREAMLAKE_DATABASE_URL\).*DREAMLAKE_DATABASE_URL/);
      await expect(byEnv).rejects.not.toThrow(/hunter2/);
    } finally {
      if (previous === undefined) delete process.env.DREAMLAKE_DATABASE_URL;
      else process.env.DREAMLAKE_DATABASE_URL = previous;
    }
  });

  it('data dir that cannot be written: names it and --data / DREAMLAKE_DATA_DIR', async () => {
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, 'not a directory');
    const previous = process.env.DREAMLAKE_DATA_DIR;
    process.env.DREAMLAKE_DATA_DIR = join(file, 'data');
    try {
      const run = main(['node', 'dreamlake', 'serve', '--port', '0']);
      await expect(run).rejects.toThrow(`The data directory ${join(file, 'data')} is not writable (ENOTDIR)`);
      await expect(run).rejects.toThrow(/--data or DREAMLAKE_DATA_DIR.*\(it was set by DREAMLAKE_DATA_DIR\)/);
    } finally {
      if (previous === undefined) delete process.env.DREAMLAKE_DATA_DIR;
      else process.env.DREAMLAKE_DATA_DIR = previous;
    }
  });

  it('metrics on a separate port: served there (with the token), not on the API port', async () => {
    const data = tempDir();
    blocker = createServer();
    const metricsPort = await new Promise<number>((resolve) =>
      blocker!.listen(0, '127.0.0.1', () => resolve((blocker!.address() as { port: number }).port)),
    );
    await new Promise((r) => blocker!.close(r));
    blocker = undefined;
    const server = await startServerProcess(['--data', data], { DREAMLAKE_METRICS_PORT: String(metricsPort), DREAMLAKE_METRICS_TOKEN: 'tok' });
    try {
      // The metrics line follows the listening line; the pipe may hand them over in two reads.
      for (let i = 0; i < 200 && !server.output().stdout.includes('Metrics on'); i++) await new Promise((r) => setTimeout(r, 50));
      expect(server.output().stdout).toContain(`Metrics on http://127.0.0.1:${metricsPort}/metrics`);
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
      expect((await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer tok' } })).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).status).toBe(401);
      const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { headers: { authorization: 'Bearer tok' } });
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('dreamlake_http_requests_total{method="GET",route="/health",status="200"} 1');
    } finally {
      server.child.kill('SIGTERM');
      const { code, signal } = await server.exited;
      expect({ code, signal }).toEqual({ code: 0, signal: null });
    }
  }, 120_000);
});

describe('npm start', () => {
  const built = existsSync(fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url)));
  if (!built) console.log('SKIPPED: the npm start test needs the build (dist/, made by npm install or npm run build).');
  it.skipIf(!built)('runs the built server as npm\'s direct child (no tsc), so a SIGTERM to npm stops it cleanly', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.prestart).toBeUndefined();
    const data = tempDir();
    const npm = spawn('npm', ['start', '--', '--port', '0', '--data', data], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      env: { ...process.env, DREAMLAKE_LOG_LEVEL: 'info' },
    });
    let out = '';
    npm.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    npm.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise<number | null>((resolve) => npm.on('exit', (code) => resolve(code)));
    const url = await listeningUrl(npm, () => out);
    expect((await fetch(`${url}/health`)).status).toBe(200);
    npm.kill('SIGTERM');
    await exited;
    for (let i = 0; i < 50 && !/stopped cleanly/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
    expect(out).toMatch(/stopped cleanly/);
    await expect(fetch(`${url}/health`)).rejects.toThrow();
    expect(existsSync(join(data, 'dreamlake.sqlite-wal'))).toBe(false);
  }, 120_000);
});

describe('started through an npm wrapper that dies without passing the signal on (npx, docker stop)', () => {
  it('drains and exits cleanly when the wrapper is gone, instead of serving on as an orphan', async () => {
    const data = tempDir();
    const entry = fileURLToPath(new URL('../helpers/cli-entry.ts', import.meta.url));
    // A shell stands in for `npm exec`: it starts the server, prints its pid, and is killed with SIGKILL.
    const wrapper = spawn('sh', ['-c', `${process.execPath} --import tsx ${entry} serve --port 0 --data ${data} & echo "pid $!"; wait`], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      env: { ...process.env, npm_command: 'exec', DREAMLAKE_LOG_LEVEL: 'info' },
      detached: true,
    });
    let out = '';
    wrapper.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    wrapper.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const url = await listeningUrl(wrapper, () => out);
    const pid = Number(/pid (\d+)/.exec(out)![1]);
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    try {
      expect((await fetch(`${url}/health`)).status).toBe(200);
      wrapper.kill('SIGKILL');
      for (let i = 0; i < 100 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
      expect(alive()).toBe(false);
      expect(out).toMatch(/parent-exit/);
      expect(out).toMatch(/stopped cleanly/);
      expect(existsSync(join(data, 'dreamlake.sqlite-wal'))).toBe(false);
    } finally {
      if (alive()) process.kill(pid, 'SIGKILL');
    }
  }, 120_000);
});

describe('logs on a terminal', () => {
  const hasScript = spawnSync('script', ['--version']).status === 0;
  if (!hasScript) console.log('SKIPPED: the pretty-log test needs `script` (util-linux) to give the server a terminal.');
  it.skipIf(!hasScript)('are human-readable lines (pino-pretty), one per request', async () => {
    const data = tempDir();
    const entry = fileURLToPath(new URL('../helpers/cli-entry.ts', import.meta.url));
    // `script` gives the server a pseudo-terminal as stdout.
    const command = `${process.execPath} --import tsx ${entry} serve --port 0 --data ${data}`;
    const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: fileURLToPath(new URL('../..', import.meta.url)) });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    try {
      const url = await listeningUrl(child, () => out, /DreamLake listening on (http:\/\/[\d.:]+)/); // colored: the address alone
      expect((await fetch(`${url}/health?secret=1`)).status).toBe(200);
      for (let i = 0; i < 50 && !/GET \/health 200/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
      // eslint-disable-next-line no-control-regex
      const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
      expect(plain).toMatch(/INFO.*GET \/health 200/);
      expect(plain).not.toMatch(/\{"level":/);
      expect(plain).not.toContain('secret=1');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.on('exit', r));
    }
  }, 120_000);
});

describe('dreamlake token checks', () => {
  afterEach(() => vi.restoreAllMocks());

  const capture = () => ({
    out: vi.spyOn(console, 'log').mockImplementation(() => {}),
    err: vi.spyOn(console, 'error').mockImplementation(() => {}),
  });

  it('refuses a username that is not a valid namespace slug', async () => {
    const data = tempDir();
    for (const bad of ['bob smith', '-bob', 'bob_', 'ünïcode', 'a'.repeat(65), '@']) {
      await expect(main(['node', 'dreamlake', 'token', '--data', data, '--', bad]), bad).rejects.toThrow(/cannot be a username/);
    }
    expect(existsSync(join(data, 'jwt-secret'))).toBe(false);
  });

  it('says on stderr which data dir and secret it signed with, and warns when it created the secret', async () => {
    const data = tempDir();
    const { out, err } = capture();
    await main(['node', 'dreamlake', 'token', 'alice', '--data', data]);
    expect(String(err.mock.calls[0][0])).toMatch(new RegExp(`^Warning: there was no secret yet, so a new one was created in ${join(data, 'jwt-secret')}`));
    await main(['node', 'dreamlake', 'token', 'bob', '--data', data]);
    expect(String(err.mock.calls[1][0])).toBe(`Signed with the secret in ${join(data, 'jwt-secret')} (data dir ${data}).`);
    const secret = readFileSync(join(data, 'jwt-secret'), 'utf8').trim();
    await expect(jwtVerify(String(out.mock.calls[1][0]), new TextEncoder().encode(secret))).resolves.toBeTruthy();

    const previous = process.env.DREAMLAKE_JWT_SECRET;
    process.env.DREAMLAKE_JWT_SECRET = TEST_JWT_SECRET;
    try {
      await main(['node', 'dreamlake', 'token', 'carol', '--data', data]);
    } finally {
      if (previous === undefined) delete process.env.DREAMLAKE_JWT_SECRET;
      else process.env.DREAMLAKE_JWT_SECRET = previous;
    }
    expect(String(err.mock.calls[2][0])).toBe(`Signed with the secret from DREAMLAKE_JWT_SECRET (data dir ${data}).`);
    await expect(jwtVerify(String(out.mock.calls[2][0]), new TextEncoder().encode(TEST_JWT_SECRET))).resolves.toBeTruthy();
  });

  it.each(DIALECTS)('refuses a username whose slug an organisation owns (%s)', async (dialect: DialectName) => {
    const t = await createTestApp(dialect);
    try {
      const headers = await t.auth('alice');
      expect((await t.inject({ method: 'POST', url: '/namespaces', headers, payload: { slug: 'acme', name: 'ACME' } })).statusCode).toBe(201);
      const args = ['--data', t.dataDir, '--database', t.databaseArg];
      await expect(main(['node', 'dreamlake', 'token', '@ACME', ...args])).rejects.toThrow(/"acme" is the slug of an organisation namespace/);
      const { out } = capture();
      await main(['node', 'dreamlake', 'token', 'alice', ...args]);
      expect(decodeJwt(String(out.mock.calls[0][0])).sub).toBe('alice');
    } finally {
      await t.close();
    }
  });
});

describe.each(DIALECTS)('dreamlake backup and restore (%s)', (dialect: DialectName) => {
  afterEach(() => vi.restoreAllMocks());

  if (dialect === 'postgres') {
    it('on PostgreSQL, says to use pg_dump and copy the blob store', async () => {
      const t = await createTestApp(dialect);
      try {
        const args = ['--data', t.dataDir, '--database', t.databaseArg];
        await expect(main(['node', 'dreamlake', 'backup', tempDir(), ...args])).rejects.toThrow(/pg_dump.*blobs/);
        await expect(main(['node', 'dreamlake', 'restore', tempDir(), ...args])).rejects.toThrow(/pg_dump.*blobs/);
      } finally {
        await t.close();
      }
    });
    return;
  }

  it('backs up every blob gc keeps: Dreamscript attachments and files registered through the blob service too', async () => {
    const t = await createTestApp(dialect);
    const headers = await t.auth('alice');
    try {
      const { secret } = await createKey(scriptDb(t.database), { admin: true });
      const couch = (method: string, url: string, payload?: string, type = 'application/json') =>
        t.inject({ method: method as 'PUT', url: `/dreamscript/couch${url}`, headers: { 'x-api-key': secret, 'content-type': type }, ...(payload !== undefined && { payload }) });
      expect((await couch('PUT', '/notes')).statusCode).toBe(201);
      const doc = await couch('PUT', '/notes/todo', JSON.stringify({ title: 'milk' }));
      expect((await couch('PUT', `/notes/todo/att.txt?rev=${doc.json().rev}`, 'attachment bytes', 'text/plain')).statusCode).toBe(201);
      // The original CLI's `video upload`: content registered with POST /files, in no node.
      const video = Buffer.from('registered video bytes');
      const up = await init(t, headers, video, { owner: 'default', project: 'default' });
      const [url] = Object.values(await partUrls(t, headers, up, [1]));
      const etag = String((await putPart(t, url, video)).headers.etag).replace(/"/g, '');
      expect((await complete(t, headers, up, [{ partNumber: 1, etag }])).statusCode).toBe(200);
      const file = await t.inject({ method: 'POST', url: '/files', headers, payload: { name: 'clip', stagingHash: hash16(video) } });
      expect(file.statusCode).toBe(201);

      const target = join(tempDir(), 'backup');
      vi.spyOn(console, 'log').mockImplementation(() => {});
      await main(['node', 'dreamlake', 'backup', target, '--data', t.dataDir]);
      const fresh = tempDir();
      await main(['node', 'dreamlake', 'restore', target, '--data', fresh]);
      const app = await buildApp(loadConfig({ data: fresh }, { DREAMLAKE_JWT_SECRET: TEST_JWT_SECRET }), { logger: false });
      try {
        const attachment = await app.inject({ method: 'GET', url: '/dreamscript/couch/notes/todo/att.txt', headers: { 'x-api-key': secret } });
        expect(attachment.statusCode).toBe(200);
        expect(attachment.body).toBe('attachment bytes');
        const raw = await app.inject({ method: 'GET', url: `/files/${file.json().id}/raw`, headers });
        expect(raw.statusCode).toBe(200);
        expect(raw.body).toBe('registered video bytes');
      } finally {
        await app.close();
      }
    } finally {
      await t.close();
    }
  });

  it('copies a consistent snapshot and its blobs while the server writes, and restores it into a fresh data dir', async () => {
    const t = await createTestApp(dialect);
    const headers = await t.auth('alice');
    const base = '/namespaces/alice/projects/lab';
    const put = (path: string, body: string) => t.inject({ method: 'PUT', url: `${base}/files/${path}`, headers, payload: body });
    try {
      expect((await t.inject({ method: 'POST', url: '/namespaces/alice/projects', headers, payload: { name: 'Lab' } })).statusCode).toBe(201);
      for (let i = 0; i < 5; i++) expect((await put(`before-${i}.txt`, `content ${i}`)).statusCode).toBe(201);

      // The server keeps writing while the backup runs.
      let writing = true;
      let written = 0;
      const writer = (async () => {
        while (writing) {
          const res = await put(`during-${written}.txt`, `during ${written}`);
          expect(res.statusCode).toBe(201);
          written++;
        }
      })();
      // As a server that generated its secret has it (the test app takes its secret from the environment).
      writeFileSync(join(t.dataDir, 'jwt-secret'), 'a-generated-secret\n', { mode: 0o600 });
      const target = join(tempDir(), 'backup');
      const log = vi.spyOn(console, 'log').mockImplementation(() => {});
      await main(['node', 'dreamlake', 'backup', target, '--data', t.dataDir]);
      writing = false;
      await writer;
      expect(String(log.mock.calls[0][0])).toMatch(/^Backed up the database and \d+ blobs/);
      expect(JSON.parse(readFileSync(join(target, 'backup.json'), 'utf8'))).toMatchObject({ format: 1, database: 'dreamlake.sqlite' });
      expect(existsSync(join(target, 'dreamlake.sqlite-wal'))).toBe(false);
      const snapshot = new SqliteDatabase(join(target, 'dreamlake.sqlite'), { readonly: true });
      const inBackup = snapshot.prepare(`select count(*) from nodes where deleted_at is null and kind != 'folder'`).pluck().get() as number;
      expect(snapshot.pragma('integrity_check', { simple: true })).toBe('ok');
      snapshot.close();
      expect(inBackup).toBeGreaterThanOrEqual(5);

      // A write after the backup is not in it.
      expect((await put('after.txt', 'after the backup')).statusCode).toBe(201);

      // Restore refuses to overwrite a database unless forced.
      await expect(main(['node', 'dreamlake', 'restore', target, '--data', t.dataDir])).rejects.toThrow(/already exists.*--force/);

      const fresh = tempDir();
      await main(['node', 'dreamlake', 'restore', target, '--data', fresh]);
      expect(readFileSync(join(fresh, 'jwt-secret'), 'utf8')).toBe(readFileSync(join(target, 'jwt-secret'), 'utf8'));
      const app = await buildApp(loadConfig({ data: fresh }, { DREAMLAKE_JWT_SECRET: TEST_JWT_SECRET }), { logger: false });
      try {
        for (let i = 0; i < 5; i++) {
          const node = await app.inject({ method: 'GET', url: `${base}/nodes/lookup?path=/before-${i}.txt`, headers });
          expect(node.statusCode).toBe(200);
          const body = await app.inject({ method: 'GET', url: `${base}/nodes/${node.json().id}/content`, headers });
          expect(body.body).toBe(`content ${i}`);
        }
        const after = await app.inject({ method: 'GET', url: `${base}/nodes/lookup?path=/after.txt`, headers });
        expect(after.statusCode).toBe(404);
        const listed = await app.inject({ method: 'GET', url: `${base}/nodes?pageSize=200`, headers });
        expect(listed.statusCode).toBe(200);
      } finally {
        await app.close();
      }
    } finally {
      await t.close();
    }
  });
});
