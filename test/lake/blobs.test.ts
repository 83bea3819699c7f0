import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { readdir as readdirAsync } from 'node:fs/promises';
import { CreateMultipartUploadCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createFsBlobStore } from '../../src/core/blobs/fs-store.js';
import { createS3BlobStore } from '../../src/core/blobs/s3-store.js';
import { collectGarbage } from '../../src/core/blobs/gc.js';
import type { BlobStore, PutChecks } from '../../src/core/blobs/store.js';
import { main } from '../../src/cli/main.js';
import type { DialectName } from '../../src/core/db/database.js';
import { createTestApp, DIALECTS, type TestApp } from '../helpers/app.js';
import { emptyS3Prefix, S3_SKIP_REASON, S3_TEST, s3Contents, testPrefix } from '../helpers/s3.js';

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
  ])('stores nothing on %s', async (_what, checks: PutChecks, code) => {
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

// ---------------------------------------------------------------------------------------------------------
// The same contract on every blob store: the filesystem always, S3 when a real S3 API is configured.
// Ages come from the clock (S3 has no utimes): a cut-off in the future makes everything old.

interface StoreUnderTest {
  store: BlobStore;
  /** What interrupted uploads left: temp files, temp objects, open multipart uploads. */
  leftovers(): Promise<string[]>;
  /** Leaves what a crashed upload would. */
  crash(): Promise<void>;
  close(): Promise<void>;
}

const STORES: [string, () => Promise<StoreUnderTest>][] = [
  [
    'filesystem',
    async () => {
      const root = mkdtempSync(join(tmpdir(), 'dreamlake-blobs-'));
      const tmp = join(root, 'tmp');
      return {
        store: createFsBlobStore(root),
        leftovers: async () => (await readdirAsync(tmp).catch(() => [] as string[])).sort(),
        crash: async () => {
          mkdirSync(tmp, { recursive: true });
          writeFileSync(join(tmp, 'crashed.part'), 'half');
        },
        close: async () => rmSync(root, { recursive: true, force: true }),
      };
    },
  ],
];
if (S3_TEST) {
  STORES.push([
    's3',
    async () => {
      const prefix = testPrefix();
      const store = createS3BlobStore({ ...S3_TEST!, prefix, partSize: 5 * MiB });
      return {
        store,
        // Objects under data/ are blobs' bytes when a pointer names them; a marker under pending/ goes with its object.
        leftovers: async () => {
          const { objects, uploads } = await s3Contents(prefix);
          const named = new Set<string>();
          for (const k of objects.filter((o) => o.startsWith('blobs/'))) {
            const out = await store.client.send(new HeadObjectCommand({ Bucket: store.bucket, Key: prefix + k }));
            if (out.Metadata?.location) named.add(out.Metadata.location);
          }
          const left = objects.filter((k) => !k.startsWith('blobs/') && !k.startsWith('touch/') && !named.has(k));
          return [...left.filter((k) => !k.startsWith('pending/') || !left.includes(`data/${k.slice(8)}`)), ...uploads.map((u) => `upload:${u}`)].sort();
        },
        // Earlier versions' leftovers (tmp/), a big put cut short, a complete cut short after CompleteMultipartUpload.
        crash: async () => {
          const put = (Key: string, Body: string) => store.client.send(new PutObjectCommand({ Bucket: store.bucket, Key: prefix + Key, Body }));
          await store.client.send(new CreateMultipartUploadCommand({ Bucket: store.bucket, Key: `${prefix}tmp/crashed-upload` }));
          await put('tmp/crashed-object', 'half');
          await store.client.send(new CreateMultipartUploadCommand({ Bucket: store.bucket, Key: `${prefix}data/put/${randomUUID()}` }));
          const assembled = `mp/uploads/u/${randomUUID()}`;
          await put(`data/${assembled}`, 'assembled, never verified');
          await put(`pending/${assembled}`, '');
        },
        close: async () => {
          await emptyS3Prefix(prefix);
          store.client.destroy();
        },
      };
    },
  ]);
} else {
  console.log(`\n*** ${S3_SKIP_REASON} ***\n`);
}

const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(STORES)('blob store contract (%s)', (_name, open) => {
  let t: StoreUnderTest;
  let store: BlobStore;
  beforeAll(async () => {
    t = await open();
    store = t.store;
  });
  afterAll(async () => t.close());

  it('puts under the sha256, once for identical content, and reads whole or a range', async () => {
    const info = await store.put(bytes('hello ', 'world'));
    expect(info).toEqual({ sha256: sha256('hello world'), size: 11 });
    expect(await store.put(bytes('hello world'))).toEqual(info);
    expect(await text(await store.get(info.sha256))).toBe('hello world');
    expect(await text(await store.get(info.sha256, { start: 6, end: 10 }))).toBe('world');
    expect(await text(await store.get(info.sha256, { start: 0, end: 0 }))).toBe('h');
    expect(await store.exists(info.sha256)).toBe(true);
    expect(await store.exists(sha256('other'))).toBe(false);
    await expect(store.get(sha256('other'))).rejects.toMatchObject({ status: 404 });
    await expect(store.get('../../etc/passwd')).rejects.toMatchObject({ status: 400 });
    const listed: string[] = [];
    for await (const b of store.list()) listed.push(b.sha256);
    expect(listed.filter((s) => s === info.sha256)).toHaveLength(1);
    expect(await t.leftovers()).toEqual([]);
  });

  it('streams a body of several parts (never whole in memory) and reads a range across a part boundary', async () => {
    const big = randomBytes(12 * MiB + 12345);
    const chunks = Array.from({ length: Math.ceil(big.length / 65536) }, (_, i) => big.subarray(i * 65536, (i + 1) * 65536));
    const info = await store.put(Readable.from(chunks), { expectedSize: big.length, expectedSha256: sha256(big) });
    expect(info).toEqual({ sha256: sha256(big), size: big.length });
    const start = 5 * MiB - 100;
    const back = await new Promise<Buffer>(async (resolve, reject) => {
      const parts: Buffer[] = [];
      const s = await store.get(info.sha256, { start, end: start + 299 });
      s.on('data', (c: Buffer) => parts.push(c)).on('end', () => resolve(Buffer.concat(parts))).on('error', reject);
    });
    expect(back.equals(big.subarray(start, start + 300))).toBe(true);
    let whole = createHash('sha256');
    for await (const c of await store.get(info.sha256)) whole = whole.update(c as Buffer);
    expect(whole.digest('hex')).toBe(info.sha256);
    expect(await store.put(Readable.from(chunks))).toEqual(info); // dedup of a multipart-sized body
    expect(await t.leftovers()).toEqual([]);
  });

  it.each([
    ['a size mismatch', { expectedSize: 3 }, 'size_mismatch'],
    ['a checksum mismatch', { expectedSha256: sha256('nope') }, 'checksum_mismatch'],
    ['too many bytes', { maxBytes: 4 }, 'payload_too_large'],
  ])('stores nothing on %s', async (_what, checks: PutChecks, code) => {
    await expect(store.put(bytes('some', ' bytes'), checks)).rejects.toMatchObject({ code });
    expect(await store.exists(sha256('some bytes'))).toBe(false);
    const big = randomBytes(7 * MiB);
    await expect(store.put(Readable.from([big.subarray(0, 4 * MiB), big.subarray(4 * MiB)]), { ...checks, maxBytes: checks.maxBytes && 6 * MiB })).rejects.toMatchObject({ code });
    expect(await store.exists(sha256(big))).toBe(false);
    expect(await t.leftovers()).toEqual([]);
  });

  it('stores nothing when the source breaks half way (small or past the first part)', async () => {
    for (const first of [Buffer.from('first half'), randomBytes(6 * MiB)]) {
      async function* broken() {
        yield first;
        throw new Error('connection reset');
      }
      await expect(store.put(broken())).rejects.toMatchObject({ status: 400, code: 'upload_interrupted' });
      expect(await store.exists(sha256(first))).toBe(false);
    }
    expect(await t.leftovers()).toEqual([]);
  });

  it('delete with olderThan keeps a blob that an identical upload has just stored again', async () => {
    const info = await store.put(bytes('contested'));
    await sleep(2100);
    const cutoff = new Date(Date.now() - 1000); // the blob was written before this (S3 dates are whole seconds)
    await store.put(bytes('contested')); // identical upload: young again
    expect(await store.delete(info.sha256, { olderThan: cutoff })).toBe(false);
    expect(await store.exists(info.sha256)).toBe(true);
    expect(await store.delete(info.sha256, { olderThan: new Date(Date.now() + 5000) })).toBe(true);
    expect(await store.exists(info.sha256)).toBe(false);
    expect(await store.delete(info.sha256)).toBe(false);
    const plain = await store.put(bytes('plain delete'));
    expect(await store.delete(plain.sha256)).toBe(true);
    expect(await store.exists(plain.sha256)).toBe(false);
    expect(await t.leftovers()).toEqual([]);
  });

  it('sweeps only leftovers older than the cut-off', async () => {
    await t.crash();
    const crashed = await t.leftovers();
    expect(crashed.length).toBeGreaterThan(0);
    expect(await store.sweep(new Date(Date.now() - HOUR))).toBe(0);
    expect(await t.leftovers()).toEqual(crashed);
    expect(await store.sweep(new Date(Date.now() + HOUR))).toBe(crashed.length);
    expect(await t.leftovers()).toEqual([]);
  });

  it('collectGarbage deletes unreferenced old blobs, keeps referenced and young ones, and can dry-run', async () => {
    const before = new Set<string>();
    for await (const b of store.list()) before.add(b.sha256);
    const kept = await store.put(bytes('gc kept'));
    const garbage = await store.put(bytes('gc garbage'));
    await sleep(2100);
    const cutoff = Date.now() - 1000;
    const young = await store.put(bytes('gc young'));
    const referenced = async (shas: string[]) => new Set(shas.filter((s) => s === kept.sha256 || before.has(s)));
    const now = new Date(cutoff + HOUR);
    const dry = await collectGarbage(store, { graceMs: HOUR, referenced, dryRun: true, now });
    expect(dry).toMatchObject({ scanned: before.size + 3, referenced: before.size + 1, young: 1, deleted: 1, deletedBytes: 10 });
    expect(await store.exists(garbage.sha256)).toBe(true);
    const real = await collectGarbage(store, { graceMs: HOUR, referenced, now, batchSize: 1 });
    expect(real).toMatchObject({ scanned: before.size + 3, referenced: before.size + 1, young: 1, deleted: 1, deletedBytes: 10 });
    expect(await store.exists(garbage.sha256)).toBe(false);
    expect(await store.exists(kept.sha256)).toBe(true);
    expect(await store.exists(young.sha256)).toBe(true);
  });
});
