import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createFsBlobStore } from '../../src/core/blobs/fs-store.js';
import { collectGarbage } from '../../src/core/blobs/gc.js';
import type { BlobStore } from '../../src/core/blobs/store.js';
import { main } from '../../src/cli/main.js';
import type { DialectName } from '../../src/core/db/database.js';
import { createTestApp, DIALECTS, type TestApp } from '../helpers/app.js';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const HOUR = 3600_000;
const bytes = (...parts: string[]) => Readable.from(parts.map((p) => Buffer.from(p)));

async function text(stream: Readable): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString();
}

function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}

function age(path: string, ms: number) {
  const then = new Date(Date.now() - ms);
  utimesSync(path, then, then);
}

describe('filesystem blob store', () => {
  let root: string;
  let store: BlobStore;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'dreamlake-blobs-'));
    store = createFsBlobStore(root);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const blobPath = (content: string) => {
    const digest = sha256(content);
    return join(root, digest.slice(0, 2), digest.slice(2, 4), digest);
  };

  it('puts a stream under its sha256, once for identical content, and reads it back whole or in part', async () => {
    const info = await store.put(bytes('hello ', 'world'));
    expect(info).toEqual({ sha256: sha256('hello world'), size: 11 });
    expect(await store.put(bytes('hello world'))).toEqual(info);
    expect(filesUnder(root).filter((f) => !f.startsWith('tmp/'))).toEqual([`${info.sha256.slice(0, 2)}/${info.sha256.slice(2, 4)}/${info.sha256}`]);
    expect(await text(await store.get(info.sha256))).toBe('hello world');
    expect(await text(await store.get(info.sha256, { start: 6, end: 10 }))).toBe('world');
    expect(await store.exists(info.sha256)).toBe(true);
    expect(await store.exists(sha256('other'))).toBe(false);
    await expect(store.get(sha256('other'))).rejects.toMatchObject({ status: 404 });
    await expect(store.get('../../etc/passwd')).rejects.toMatchObject({ status: 400 });
  });

  it.each([
    ['a size mismatch', { expectedSize: 3 }, 'size_mismatch'],
    ['a checksum mismatch', { expectedSha256: sha256('nope') }, 'checksum_mismatch'],
    ['too many bytes', { maxBytes: 4 }, 'payload_too_large'],
  ])('stores nothing on %s', async (_what, checks, code) => {
    await expect(store.put(bytes('some', ' bytes'), checks)).rejects.toMatchObject({ code });
    expect(await store.exists(sha256('some bytes'))).toBe(false);
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
  });

  it('stores nothing when the source breaks half way', async () => {
    async function* broken() {
      yield Buffer.from('first half');
      throw new Error('connection reset');
    }
    await expect(store.put(broken())).rejects.toMatchObject({ status: 400, code: 'upload_interrupted' });
    expect(await store.exists(sha256('first half'))).toBe(false);
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
  });

  it('delete with olderThan keeps a blob an upload has just written again', async () => {
    const info = await store.put(bytes('contested'));
    age(blobPath('contested'), 2 * HOUR);
    await store.put(bytes('contested')); // identical upload: fresh again
    expect(await store.delete(info.sha256, { olderThan: new Date(Date.now() - HOUR) })).toBe(false);
    expect(await store.exists(info.sha256)).toBe(true);
    age(blobPath('contested'), 2 * HOUR);
    expect(await store.delete(info.sha256, { olderThan: new Date(Date.now() - HOUR) })).toBe(true);
    expect(await store.exists(info.sha256)).toBe(false);
    expect(await store.delete(info.sha256)).toBe(false);
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
  });

  it('lists blobs and sweeps only old upload leftovers', async () => {
    await store.put(bytes('listed'));
    const listed = [];
    for await (const b of store.list()) listed.push(b.sha256);
    expect(listed).toContain(sha256('listed'));
    writeFileSync(join(root, 'tmp', 'old.part'), 'crashed upload');
    writeFileSync(join(root, 'tmp', 'new.part'), 'running upload');
    age(join(root, 'tmp', 'old.part'), 2 * HOUR);
    expect(await store.sweep(new Date(Date.now() - HOUR))).toBe(1);
    expect(readdirSync(join(root, 'tmp'))).toEqual(['new.part']);
  });

  it('collectGarbage deletes unreferenced old blobs, keeps referenced and young ones, and can dry-run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dreamlake-gc-'));
    const gcStore = createFsBlobStore(dir);
    try {
      const kept = await gcStore.put(bytes('kept'));
      const garbage = await gcStore.put(bytes('garbage'));
      const young = await gcStore.put(bytes('young'));
      for (const s of [kept, garbage]) age(join(dir, s.sha256.slice(0, 2), s.sha256.slice(2, 4), s.sha256), 2 * HOUR);
      const fresh = await gcStore.put(bytes('fresh and referenced'));
      const referenced = async (shas: string[]) => new Set(shas.filter((s) => s === kept.sha256 || s === fresh.sha256));
      const dry = await collectGarbage(gcStore, { graceMs: HOUR, referenced, dryRun: true });
      expect(dry).toMatchObject({ scanned: 4, referenced: 2, young: 1, deleted: 1, deletedBytes: 7 });
      expect(await gcStore.exists(garbage.sha256)).toBe(true);
      const real = await collectGarbage(gcStore, { graceMs: HOUR, referenced });
      expect(real).toMatchObject({ scanned: 4, referenced: 2, young: 1, deleted: 1, deletedBytes: 7 });
      expect(await gcStore.exists(garbage.sha256)).toBe(false);
      expect(await gcStore.exists(kept.sha256)).toBe(true);
      expect(await gcStore.exists(young.sha256)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.each(DIALECTS)('dreamlake gc (%s)', (dialect: DialectName) => {
  let t: TestApp;
  let dataDir: string;
  let databaseArg: string;
  let app: FastifyInstance;
  let headers: Record<string, string>;
  const base = '/namespaces/alice/projects/lab';

  beforeAll(async () => {
    t = await createTestApp(dialect);
    ({ app, dataDir, databaseArg } = t);
    headers = await t.auth('alice');
    await app.inject({ method: 'POST', url: '/namespaces/alice/projects', headers, payload: { name: 'Lab' } });
  });
  afterAll(async () => t.close());
  afterEach(() => vi.restoreAllMocks());

  const put = (path: string, body: string) => app.inject({ method: 'PUT', url: `${base}/files/${path}`, headers, payload: body });
  const blobOf = (content: string) => {
    const d = sha256(content);
    return join(dataDir, 'blobs', d.slice(0, 2), d.slice(2, 4), d);
  };
  const gc = async (...args: string[]) => {
    const out = vi.spyOn(console, 'log').mockImplementation(() => {});
    await main(['node', 'dreamlake', 'gc', '--data', dataDir, '--database', databaseArg, ...args]);
    return out.mock.calls.map((c) => String(c[0])).join('\n');
  };

  it('deletes the blobs no live file references once they are past the grace period', async () => {
    const replaced = (await put('a.txt', 'old content')).json();
    await put('a.txt', 'new content');
    const deleted = (await put('b.txt', 'deleted file')).json();
    await app.inject({ method: 'DELETE', url: `${base}/nodes/${deleted.id}`, headers });
    await put('c.txt', 'shared');
    await put('d.txt', 'shared');
    await put('young.txt', 'young and live');
    await app.inject({ method: 'DELETE', url: `${base}/nodes/${(await put('young2.txt', 'young too')).json().id}`, headers });
    for (const c of ['old content', 'new content', 'deleted file', 'shared']) age(blobOf(c), 2 * HOUR);
    mkdirSync(join(dataDir, 'blobs', 'tmp'), { recursive: true });
    writeFileSync(join(dataDir, 'blobs', 'tmp', 'crashed.part'), 'half');
    age(join(dataDir, 'blobs', 'tmp', 'crashed.part'), 2 * HOUR);

    expect(await gc('--grace', '1h', '--dry-run')).toMatch(/would delete 2 \(23 bytes\)/);
    expect(filesUnder(join(dataDir, 'blobs'))).toContain('tmp/crashed.part');
    const report = await gc('--grace', '1h');
    // "young and live" is referenced: in use whatever its age (only "young too", deleted, is merely young).
    expect(report).toMatch(/Scanned 6 blobs: 3 in use, 1 younger than the grace period, deleted 2 \(23 bytes\); removed 1 upload leftovers/);
    const left = filesUnder(join(dataDir, 'blobs'));
    for (const c of ['new content', 'shared', 'young too']) expect(left.some((f) => blobOf(c).endsWith(f))).toBe(true);
    for (const c of ['old content', 'deleted file']) expect(left.some((f) => blobOf(c).endsWith(f))).toBe(false);
    expect(left).not.toContain('tmp/crashed.part');

    const a = (await app.inject({ method: 'GET', url: `${base}/nodes/lookup?path=/a.txt`, headers })).json();
    expect(a.id).toBe(replaced.id);
    expect((await app.inject({ method: 'GET', url: `${base}/nodes/${a.id}/content`, headers })).body).toBe('new content');
  });

  it('files of a deleted project keep nothing alive', async () => {
    await app.inject({ method: 'POST', url: '/namespaces/alice/projects', headers, payload: { name: 'Gone' } });
    await app.inject({ method: 'PUT', url: '/namespaces/alice/projects/gone/files/x.bin', headers, payload: 'in a deleted project' });
    await app.inject({ method: 'DELETE', url: '/namespaces/alice/projects/gone', headers });
    age(blobOf('in a deleted project'), 2 * HOUR);
    expect(await gc('--grace', '30m')).toMatch(/deleted 1 \(20 bytes\)/);
  });

  it('sweeps old upload leftovers when the server starts', async () => {
    const tmp = join(dataDir, 'blobs', 'tmp');
    writeFileSync(join(tmp, 'old.part'), 'crashed');
    writeFileSync(join(tmp, 'running.part'), 'another process is writing this');
    age(join(tmp, 'old.part'), 2 * HOUR);
    const second = await t.peer();
    await second.close();
    expect(readdirSync(tmp)).toEqual(['running.part']);
  });

  it('refuses a malformed grace period', async () => {
    await expect(gc('--grace', 'soon')).rejects.toThrow(/--grace/);
  });
});
