import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { login, ls } from '../src/cli/client/commands.js';
import { download } from '../src/cli/client/download.js';
import type { Fetch } from '../src/cli/client/remote.js';
import { upload } from '../src/cli/client/upload.js';
import { main } from '../src/cli/main.js';
import type { DialectName } from '../src/core/db/database.js';
import { createTestApp, DIALECTS, type TestApp } from './helpers/app.js';
import { emptyS3Prefix, S3_TEST, s3AppEnv, testPrefix } from './helpers/s3.js';

const MiB = 1024 * 1024;
/** The server's part size in these tests (S3's smallest): c.bin is 4 parts, b.bin one. */
const PART = 5 * MiB;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

const STORES: [string, () => { env: NodeJS.ProcessEnv; cleanup(): Promise<void> }][] = [['fs', () => ({ env: {}, cleanup: async () => {} })]];
if (S3_TEST) {
  STORES.push([
    's3',
    () => {
      const prefix = testPrefix();
      return { env: s3AppEnv(prefix), cleanup: () => emptyS3Prefix(prefix) };
    },
  ]);
}
const CASES = DIALECTS.flatMap((d) => STORES.map(([s, open]) => [d, s, open] as const));

function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}

describe.each(CASES)('dreamlake login, ls, upload, download (%s, %s store)', (dialect: DialectName, _store, openStore) => {
  let t: TestApp;
  let server: string;
  let work: string;
  let env: NodeJS.ProcessEnv;
  let lines: string[];
  let cleanup: () => Promise<void>;
  const log = (line: string) => void lines.push(line);
  const quiet = { write: () => true, isTTY: false };

  // A nested folder: an empty file, small files, and one of several parts.
  const big = randomBytes(18 * MiB + 777);
  const tree: Record<string, Buffer> = {
    'a.txt': Buffer.from('alpha\n'),
    'empty.txt': Buffer.alloc(0),
    'sub/b.bin': randomBytes(3 * MiB + 5),
    'sub/deeper/c.bin': big,
  };

  beforeAll(async () => {
    const store = openStore();
    cleanup = store.cleanup;
    t = await createTestApp(dialect, { ...store.env, DREAMLAKE_PART_SIZE: String(PART) });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    server = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    const headers = await t.auth('alice');
    await t.app.inject({ method: 'POST', url: '/namespaces/alice/projects', headers, payload: { name: 'Lab' } });
    await t.app.inject({ method: 'POST', url: '/namespaces/alice/projects/lab/episodes', headers, payload: { name: 'drive-1', folder: '/runs' } });
    work = mkdtempSync(join(tmpdir(), 'dreamlake-client-'));
    env = { XDG_CONFIG_HOME: join(work, 'config') };
    for (const [path, data] of Object.entries(tree)) {
      mkdirSync(join(work, 'data', path, '..'), { recursive: true });
      writeFileSync(join(work, 'data', path), data);
    }
  });
  afterAll(async () => {
    // A connection that the fault injection cut mid-transfer may still wait for its timeout: nothing runs now.
    t.app.server.closeAllConnections();
    await t.close();
    rmSync(work, { recursive: true, force: true });
    await cleanup();
  });

  it('login checks the token and keeps it in the config dir with mode 0600', async () => {
    lines = [];
    await expect(login(server, 'not-a-token', { env, log })).rejects.toThrow(/login to .* failed: HTTP 401/);
    expect(existsSync(join(work, 'config', 'dreamlake', 'credentials.json'))).toBe(false);
    const token = (await t.auth('alice')).authorization.slice('Bearer '.length);
    const path = await login(`${server}/`, token, { env, log });
    expect(path).toBe(join(work, 'config', 'dreamlake', 'credentials.json'));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ server, token });
    expect(lines.join('\n')).toMatch(/Logged in to http:\/\/127\.0\.0\.1:\d+ as alice/);
  });

  it('uploads a nested folder, big files in signed parts; a part cut mid-way fails the run (non-zero), and a re-run sends only the missing parts', async () => {
    lines = [];
    const partNumber = (url: string) => new URL(url).searchParams.get('partNumber');
    const lengthOf = (init?: RequestInit) => (init?.headers as Record<string, string> | undefined)?.['content-length'];
    let broken = false;
    const firstRun: { part: string | null; length?: string; auth: boolean }[] = [];
    const breaking: Fetch = async (url, init) => {
      if (init?.method === 'PUT' && partNumber(String(url))) {
        firstRun.push({ part: partNumber(String(url)), length: lengthOf(init), auth: 'authorization' in ((init.headers as object) ?? {}) });
        // c.bin's second part (5 MiB; b.bin is one part of 3 MiB): the connection dies after 1 MiB.
        if (partNumber(String(url)) === '2' && lengthOf(init) === String(PART) && !broken) {
          broken = true;
          const source = init.body as unknown as AsyncIterable<Uint8Array>;
          const cut = (async function* () {
            let sent = 0;
            for await (const chunk of source) {
              sent += chunk.length;
              if (sent > MiB) throw new Error('network down');
              yield chunk;
            }
          })();
          return fetch(url, { ...init, body: cut as unknown as BodyInit });
        }
      }
      return fetch(url, init);
    };
    await expect(upload(join(work, 'data'), 'alice/lab/inbox', { env, fetch: breaking, out: quiet, log })).rejects.toThrow(
      /1 of 4 files failed .*c\.bin.* re-run the same command to resume/,
    );
    expect(broken).toBe(true);
    expect(lines.some((l) => l.startsWith('✗') && l.includes('c.bin') && /part 2 PUT failed.*upload paused, re-run to resume/.test(l))).toBe(true);
    // Signed part URLs: no Bearer header goes with the bytes.
    expect(firstRun.every((p) => !p.auth)).toBe(true);
    const headers = await t.auth('alice');
    const lookup = (path: string) => t.app.inject({ method: 'GET', url: `/namespaces/alice/projects/lab/nodes/lookup?path=${encodeURIComponent(path)}`, headers });
    expect((await lookup('/inbox/data/sub/deeper/c.bin')).statusCode).toBe(404);
    expect((await lookup('/inbox/data/sub/b.bin')).json()).toMatchObject({ sha256: sha256(tree['sub/b.bin']), kind: 'file' });

    // The state file (keyed by the content's sha256) names the staged upload; the server has some parts, not part 2.
    const statePath = join(work, 'config', 'dreamlake', 'uploads', `${sha256(big)}.json`);
    const state = JSON.parse(readFileSync(statePath, 'utf8'));
    expect(state).toMatchObject({ size: big.length, partSize: PART, totalParts: 4 });
    const query = new URLSearchParams({ uploadId: state.uploadId, key: state.key });
    const before = await t.app.inject({ method: 'GET', url: `/files/upload/multipart/parts-done?${query}`, headers });
    expect(before.statusCode).toBe(200);
    const had = (before.json().parts as { partNumber: number }[]).map((p) => p.partNumber).sort();
    expect(before.json().expired).toBe(false);
    expect(had.length).toBeGreaterThan(0);
    expect(had).not.toContain(2);
    expect(readdirSync(join(work, 'config', 'dreamlake', 'uploads'))).toEqual([`${sha256(big)}.json`]);

    lines = [];
    const puts: string[] = [];
    const counting: Fetch = async (url, init) => {
      if (init?.method === 'PUT') puts.push(partNumber(String(url)) ?? String(url));
      return fetch(url, init);
    };
    const again = await upload(join(work, 'data'), 'alice/lab/inbox', { env, fetch: counting, out: quiet, log });
    expect(again).toEqual({ transferred: 1, skipped: 3, bytes: big.length });
    expect(lines.filter((l) => l.startsWith('='))).toHaveLength(3);
    expect(lines.some((l) => l.includes(`resuming, ${had.length}/4 parts already there`))).toBe(true);
    // Only the parts the server did not have travelled again.
    const missing = [1, 2, 3, 4].filter((n) => !had.includes(n)).map(String);
    expect(puts.sort()).toEqual(missing);
    expect((await lookup('/inbox/data/sub/deeper/c.bin')).json()).toMatchObject({ sha256: sha256(big), size: big.length });
    expect((await lookup('/inbox/data/empty.txt')).json()).toMatchObject({ size: 0 });
    expect(readdirSync(join(work, 'config', 'dreamlake', 'uploads'))).toEqual([]);
    const after = await t.app.inject({ method: 'GET', url: `/files/upload/multipart/parts-done?${query}`, headers });
    expect(after.json()).toMatchObject({ expired: true });

    // Everything is there now: a third run sends nothing.
    puts.length = 0;
    expect(await upload(join(work, 'data'), 'alice/lab/inbox', { env, fetch: counting, out: quiet, log })).toEqual({ transferred: 0, skipped: 4, bytes: 0 });
    expect(puts).toEqual([]);
  });

  it('resumes after the client process was killed (SIGKILL) mid-upload: only the part that was in flight is sent again', async (ctx) => {
    if (_store !== 'fs') {
      console.log('SKIP (s3 store): the part URLs point at S3 there, not through the stalling proxy this test needs');
      return ctx.skip();
    }
    // A second big file, uploaded by a real `dreamlake upload` process through a proxy that holds part 2 forever.
    const data = randomBytes(3 * PART + 1234);
    const dir = join(work, 'killed');
    mkdirSync(join(dir, 'x'), { recursive: true });
    writeFileSync(join(dir, 'x', 'd.bin'), data);
    let stall = true;
    const held: Socket[] = [];
    const sockets = new Set<Socket>();
    const proxy = createServer((client) => {
      sockets.add(client);
      client.on('close', () => sockets.delete(client));
      const upstream = connect(Number(new URL(server).port), '127.0.0.1');
      let stalled = false;
      client.on('data', (chunk: Buffer) => {
        if (!stalled && stall && /^PUT [^ ]*[?&]partNumber=2[& ]/m.test(chunk.subarray(0, 2048).toString('latin1'))) {
          stalled = true;
          held.push(client);
        }
        if (!stalled) upstream.write(chunk);
      });
      upstream.pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const proxied = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const childConfig = join(work, 'child-config');
    mkdirSync(join(childConfig, 'dreamlake'), { recursive: true });
    const token = (await t.auth('alice')).authorization.slice('Bearer '.length);
    writeFileSync(join(childConfig, 'dreamlake', 'credentials.json'), JSON.stringify({ server: proxied, token }), { mode: 0o600 });
    const statePath = join(childConfig, 'dreamlake', 'uploads', `${sha256(data)}.json`);
    const headers = await t.auth('alice');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', `import('./src/cli/main.ts').then((m) => m.main(['node', 'dreamlake', 'upload', ${JSON.stringify(dir)}, 'alice/lab/killed']))`],
      { cwd: process.cwd(), env: { ...process.env, XDG_CONFIG_HOME: childConfig }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout!.on('data', (d: Buffer) => void (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => void (output += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    try {
      // Wait until the server has parts 1, 3 and 4 (part 2 is held by the proxy), then kill the client outright.
      let had: number[] = [];
      for (let i = 0; i < 400 && had.length < 3 && child.exitCode === null; i++) {
        await new Promise((r) => setTimeout(r, 100));
        if (!existsSync(statePath)) continue;
        const state = JSON.parse(readFileSync(statePath, 'utf8')) as { uploadId: string; key: string };
        const res = await t.app.inject({ method: 'GET', url: `/files/upload/multipart/parts-done?${new URLSearchParams({ uploadId: state.uploadId, key: state.key })}`, headers });
        had = (res.json().parts as { partNumber: number }[]).map((p) => p.partNumber).sort();
      }
      expect(had, output).toEqual([1, 3, 4]);
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
    } finally {
      child.kill('SIGKILL');
      for (const socket of held) socket.destroy();
      stall = false;
    }

    // The same command again (the same config dir, here in-process): only part 2 travels.
    const puts: string[] = [];
    const counting: Fetch = async (url, init) => {
      if (init?.method === 'PUT') puts.push(new URL(String(url)).searchParams.get('partNumber') ?? String(url));
      return fetch(url, init);
    };
    lines = [];
    const report = await upload(dir, 'alice/lab/killed', { env: { XDG_CONFIG_HOME: childConfig }, fetch: counting, out: quiet, log });
    for (const socket of sockets) socket.destroy(); // idle keep-alive connections
    await new Promise<void>((resolve) => proxy.close(() => resolve()));
    expect(report).toEqual({ transferred: 1, skipped: 0, bytes: data.length });
    expect(puts).toEqual(['2']);
    expect(lines.some((l) => l.includes('resuming, 3/4 parts already there'))).toBe(true);
    const node = await t.app.inject({ method: 'GET', url: '/namespaces/alice/projects/lab/nodes/lookup?path=/killed/killed/x/d.bin', headers });
    expect(node.json()).toMatchObject({ sha256: sha256(data), size: data.length });
    expect(existsSync(statePath)).toBe(false);
  }, 90_000);

  it('uploads identical big files in one run, their bytes once; two runs of the same content at once both succeed', async () => {
    // Three copies of one content over the multipart threshold (two parts each) and one other big file.
    const same = randomBytes(PART + 4321);
    const other = randomBytes(2 * MiB + 1);
    const dir = join(work, 'dups');
    mkdirSync(dir, { recursive: true });
    for (const name of ['a.bin', 'b.bin', 'c.bin']) writeFileSync(join(dir, name), same);
    writeFileSync(join(dir, 'd.bin'), other);
    const puts: string[] = [];
    const counting: Fetch = async (url, init) => {
      if (init?.method === 'PUT') puts.push(new URL(String(url)).searchParams.get('partNumber') ?? String(url));
      return fetch(url, init);
    };
    lines = [];
    const report = await upload(dir, 'alice/lab/dups', { env, fetch: counting, out: quiet, log });
    expect(report).toEqual({ transferred: 4, skipped: 0, bytes: same.length + other.length });
    // The shared content's two parts and the other file's one part travelled, once each.
    expect(puts.sort()).toEqual(['1', '1', '2']);
    expect(lines.filter((l) => /same content as \/dups\/dups\/[abc]\.bin: sent once/.test(l)), lines.join('\n')).toHaveLength(2);
    const headers = await t.auth('alice');
    const lookup = (path: string) => t.app.inject({ method: 'GET', url: `/namespaces/alice/projects/lab/nodes/lookup?path=${encodeURIComponent(path)}`, headers });
    for (const name of ['a.bin', 'b.bin', 'c.bin']) {
      expect((await lookup(`/dups/dups/${name}`)).json()).toMatchObject({ leaf: true, size: same.length, sha256: sha256(same) });
    }
    expect((await lookup('/dups/dups/d.bin')).json()).toMatchObject({ leaf: true, size: other.length, sha256: sha256(other) });
    expect(readdirSync(join(work, 'config', 'dreamlake', 'uploads'))).toEqual([]);

    // Two runs (as two processes would: each its own uploads, one config dir) sending one new content at once.
    const fresh = randomBytes(PART + 99);
    for (const name of ['one', 'two']) {
      mkdirSync(join(work, 'pair', name), { recursive: true });
      writeFileSync(join(work, 'pair', name, 'x.bin'), fresh);
    }
    const runs = await Promise.all(['one', 'two'].map((name) => upload(join(work, 'pair', name), 'alice/lab/pair', { env, out: quiet, log })));
    expect(runs).toEqual([{ transferred: 1, skipped: 0, bytes: fresh.length }, { transferred: 1, skipped: 0, bytes: fresh.length }]);
    for (const name of ['one', 'two']) {
      expect((await lookup(`/pair/${name}/x.bin`)).json()).toMatchObject({ leaf: true, size: fresh.length, sha256: sha256(fresh) });
    }
    expect(readdirSync(join(work, 'config', 'dreamlake', 'uploads')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it("downloads of one content by two runs at once each keep to their own partial file and state writes", async () => {
    const headers = await t.auth('alice');
    const node = (await t.app.inject({ method: 'GET', url: '/namespaces/alice/projects/lab/nodes/lookup?path=/pair/one/x.bin', headers })).json();
    const data = readFileSync(join(work, 'pair', 'one', 'x.bin'));
    const statePath = join(work, 'config', 'dreamlake', 'downloads', `${node.sha256}.json`);
    // Another run is fetching this content to elsewhere.bin: its partial file and its state (keyed by content).
    const elsewhere = join(work, 'elsewhere.bin.dreamlake-partial');
    writeFileSync(elsewhere, Buffer.alloc(data.length));
    mkdirSync(join(statePath, '..'), { recursive: true });
    writeFileSync(statePath, JSON.stringify({ tmp: elsewhere, size: data.length, chunkSize: 4 * MiB, done: [0] }));
    lines = [];
    const dest = join(work, 'pair-out', 'one.bin');
    mkdirSync(join(dest, '..'), { recursive: true });
    expect(await download('alice/lab/pair/one/x.bin', dest, { env, out: quiet, log, chunkSize: 4 * MiB })).toEqual({ transferred: 1, skipped: 0, bytes: data.length });
    expect(readFileSync(dest).equals(data)).toBe(true);
    // The other run's partial file is untouched.
    expect(readFileSync(elsewhere).equals(Buffer.alloc(data.length))).toBe(true);
    rmSync(elsewhere);

    // Two runs at once (one config dir), the same content to two places, in small chunks: many state writes.
    const dests = ['a.bin', 'b.bin'].map((name) => join(work, 'pair-out', name));
    const runs = await Promise.all(dests.map((d, i) => download(`alice/lab/pair/${['one', 'two'][i]}/x.bin`, d, { env, out: quiet, log, chunkSize: 256 * 1024 })));
    expect(runs).toEqual([{ transferred: 1, skipped: 0, bytes: data.length }, { transferred: 1, skipped: 0, bytes: data.length }]);
    for (const d of dests) expect(readFileSync(d).equals(data)).toBe(true);
    expect(readdirSync(join(work, 'pair-out')).sort()).toEqual(['a.bin', 'b.bin', 'one.bin']);
    expect(readdirSync(join(work, 'config', 'dreamlake', 'downloads')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('uploads into an episode', async () => {
    lines = [];
    await upload(join(work, 'data', 'a.txt'), 'alice/lab', { env, episode: 'drive-1', out: quiet, log });
    const headers = await t.auth('alice');
    const node = await t.app.inject({ method: 'GET', url: '/namespaces/alice/projects/lab/nodes/lookup?path=/runs/drive-1/a.txt', headers });
    expect(node.json().sha256).toBe(sha256(tree['a.txt']));
    expect((await upload(join(work, 'data', 'a.txt'), 'alice/lab', { env, episode: 'drive-1', out: quiet, log })).skipped).toBe(1);
    // A multipart one: POST /nodes names it relative to the episode.
    await upload(join(work, 'data', 'sub', 'b.bin'), 'alice/lab/cam', { env, episode: 'drive-1', out: quiet, log });
    const big = await t.app.inject({ method: 'GET', url: '/namespaces/alice/projects/lab/nodes/lookup?path=/runs/drive-1/cam/b.bin', headers });
    expect(big.json()).toMatchObject({ sha256: sha256(tree['sub/b.bin']), size: tree['sub/b.bin'].length });
  });

  it('ls lists a folder, one file, and says when nothing is there', async () => {
    lines = [];
    await ls('alice/lab/inbox/data', { env, log });
    expect(lines.map((l) => l.replace(/\s+/g, ' '))).toEqual([
      'folder - /inbox/data/sub/',
      'text 6 B /inbox/data/a.txt',
      'text 0 B /inbox/data/empty.txt',
    ]);
    lines = [];
    await ls('alice/lab/inbox/data/sub/b.bin', { env, log });
    expect(lines[0].replace(/\s+/g, ' ')).toBe('file 3.1 MB /inbox/data/sub/b.bin');
    await expect(ls('alice/lab/nowhere', { env, log })).rejects.toThrow(/nothing found at \/nowhere/);
    await expect(ls('alice/nope', { env, log })).rejects.toThrow(/HTTP 404: Project not found/);
  });

  it('downloads the folder 4 parts at a time; an interrupted file resumes with only its missing parts; a re-run skips all', async () => {
    const out = join(work, 'out');
    const ranges: string[] = [];
    let broken = false;
    const breaking: Fetch = async (url, init) => {
      const range = (init?.headers as Record<string, string> | undefined)?.range;
      const res = await fetch(url, init);
      if (range === `bytes=${8 * MiB}-${12 * MiB - 1}` && !broken) {
        broken = true;
        const reader = res.body!.getReader();
        let passed = 0;
        const cut = new ReadableStream<Uint8Array>({
          async pull(controller) {
            const { done, value } = await reader.read();
            if (done || passed > MiB) {
              await reader.cancel(); // the connection really goes away (else the server waits for it at close)
              return controller.error(new Error('connection reset'));
            }
            passed += value.length;
            controller.enqueue(value);
          },
        });
        return new Response(cut, { status: res.status, headers: res.headers });
      }
      return res;
    };
    lines = [];
    await expect(download('alice/lab/inbox/data', out, { env, fetch: breaking, out: quiet, log, chunkSize: 4 * MiB })).rejects.toThrow(
      /1 of 4 files failed .*c\.bin.* re-run the same command to resume/,
    );
    expect(broken).toBe(true);
    const state = JSON.parse(readFileSync(join(work, 'config', 'dreamlake', 'downloads', `${sha256(big)}.json`), 'utf8'));
    expect(state.done.length).toBeGreaterThan(0);
    expect(state.done).not.toContain(2);
    expect(existsSync(join(out, 'sub', 'deeper', 'c.bin'))).toBe(false);
    expect(existsSync(join(out, 'sub', 'deeper', 'c.bin.dreamlake-partial'))).toBe(true);

    const counting: Fetch = async (url, init) => {
      const range = (init?.headers as Record<string, string> | undefined)?.range;
      if (range) ranges.push(range);
      return fetch(url, init);
    };
    lines = [];
    const report = await download('alice/lab/inbox/data', out, { env, fetch: counting, out: quiet, log, chunkSize: 4 * MiB });
    expect(report).toEqual({ transferred: 1, skipped: 3, bytes: big.length });
    // Only c.bin's missing parts travelled again: 5 parts in all, some of them already here.
    expect(ranges.length).toBe(5 - state.done.length);
    expect(ranges).toContain(`bytes=${8 * MiB}-${12 * MiB - 1}`);
    expect(lines.some((l) => /resuming, \d\/5 parts already here/.test(l))).toBe(true);
    expect(filesUnder(out).sort()).toEqual(Object.keys(tree).sort());
    for (const [path, data] of Object.entries(tree)) expect(readFileSync(join(out, path)).equals(data)).toBe(true);
    expect(readdirSync(join(work, 'config', 'dreamlake', 'downloads'))).toEqual([]);

    ranges.length = 0;
    expect(await download('alice/lab/inbox/data', out, { env, fetch: counting, out: quiet, log })).toEqual({ transferred: 0, skipped: 4, bytes: 0 });
    expect(ranges).toEqual([]);
  });

  it('through the real command line: download of one file, and a clear error with a non-zero exit', async () => {
    const out = vi.spyOn(console, 'log').mockImplementation(() => {});
    vi.stubEnv('XDG_CONFIG_HOME', env.XDG_CONFIG_HOME!);
    try {
      const dest = join(work, 'single.bin');
      await main(['node', 'dreamlake', 'download', 'alice/lab/inbox/data/sub/b.bin', dest]);
      expect(readFileSync(dest).equals(tree['sub/b.bin'])).toBe(true);
      await main(['node', 'dreamlake', 'ls', 'alice/lab/inbox']);
      expect(out.mock.calls.map((c) => String(c[0]).replace(/\s+/g, ' '))).toContain('folder - /inbox/data/');
      await expect(main(['node', 'dreamlake', 'download', 'alice/lab/missing.bin', dest])).rejects.toThrow(/nothing found at \/missing\.bin/);
      vi.stubEnv('XDG_CONFIG_HOME', join(work, 'nobody'));
      await expect(main(['node', 'dreamlake', 'ls', 'alice/lab'])).rejects.toThrow(/Not logged in/);
    } finally {
      vi.unstubAllEnvs();
      out.mockRestore();
    }
  });
});
