import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { createFsBlobStore } from '../../src/core/blobs/fs-store.js';
import type { BlobStore } from '../../src/core/blobs/store.js';
import { loadConfig } from '../../src/core/config.js';
import { multipartContract } from '../helpers/multipart-contract.js';

const roots: string[] = [];
const fsStore = () => {
  const root = mkdtempSync(join(tmpdir(), 'dreamlake-multipart-'));
  roots.push(root);
  return { root, store: createFsBlobStore(root) };
};
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

multipartContract('filesystem store', () => fsStore().store);

describe('filesystem multipart staging', () => {
  it('keeps staging under <blobs>/staging, refuses upload IDs that are not its own, sweeps only stale part writes', async () => {
    const { root, store } = fsStore();
    const uploadId = await store.createMultipart('k', 'text/plain');
    expect(readdirSync(join(root, 'staging'))).toEqual([uploadId]);
    await expect(store.putPart('k', '../../etc', 1, Readable.from([Buffer.from('x')]))).rejects.toMatchObject({ status: 404 });
    await expect(store.putPart('k', uploadId, 0, Readable.from([Buffer.from('x')]))).rejects.toMatchObject({ status: 400 });
    await expect(store.putPart('k', uploadId, 1, Readable.from([Buffer.from('abcdef')]), { maxBytes: 3 })).rejects.toMatchObject({ status: 413 });
    await store.putPart('k', uploadId, 1, Readable.from([Buffer.from('abc')]));
    const dir = join(root, 'staging', uploadId);
    writeFileSync(join(dir, 'stale.tmp'), 'cut short');
    writeFileSync(join(dir, 'running.tmp'), 'being written');
    const old = new Date(Date.now() - 2 * 3600_000);
    utimesSync(join(dir, 'stale.tmp'), old, old);
    expect(await store.sweep(new Date(Date.now() - 3600_000))).toBe(1);
    expect(readdirSync(dir).sort()).toEqual(['meta.json', expect.stringMatching(/^p00001-900150983cd24fb0d6963f7d28e17f72-[0-9a-z]{18}$/), 'running.tmp']);
    // Staged data is never listed as a blob.
    const listed = [];
    for await (const blob of store.list()) listed.push(blob);
    expect(listed).toEqual([]);
  });
});

describe('filesystem multipart layout', () => {
  const PART = 1024;
  const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
  const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');
  const send = (store: BlobStore, uploadId: string, n: number, bytes: Buffer, known = true) =>
    store.putPart('k', uploadId, n, Readable.from([bytes]), known ? { expectedSize: bytes.length } : {});
  const blobPath = (root: string, content: Buffer) => join(root, sha256(content).slice(0, 2), sha256(content).slice(2, 4), sha256(content));

  it('writes parts of the announced size in place and completes by renaming that file (no copy), fresh for the collector', async () => {
    const { root, store } = fsStore();
    const content = randomBytes(PART * 3 + 5);
    const uploadId = await store.createMultipart('k', 'video/mp4', { partSize: PART });
    const parts = await Promise.all([4, 2, 1, 3].map((n) => send(store, uploadId, n, content.subarray((n - 1) * PART, n * PART))));
    await send(store, uploadId, 5, randomBytes(PART)); // sent, then left out of the complete
    const dir = join(root, 'staging', uploadId);
    expect(readdirSync(dir).filter((f) => f.startsWith('p'))).toEqual([]);
    const old = new Date(Date.now() - 30 * 86_400_000);
    utimesSync(join(dir, 'data'), old, old);
    const { ino } = statSync(join(dir, 'data'));
    const info = await store.completeMultipart('k', uploadId, parts, { expectedSha256Prefix: sha256(content).slice(0, 16), expectedSize: content.length });
    expect(info).toEqual({ sha256: sha256(content), size: content.length });
    expect(statSync(blobPath(root, content))).toMatchObject({ ino, size: content.length });
    expect(statSync(blobPath(root, content)).mtimeMs).toBeGreaterThan(Date.now() - 60_000);
    expect(readFileSync(blobPath(root, content)).equals(content)).toBe(true);
    expect(readdirSync(join(root, 'staging'))).toEqual([]);
  });

  it('falls back to assembling when part sizes do not line up (smaller, larger, unknown length, or a concurrent re-send)', async () => {
    const { root, store } = fsStore();
    const content = randomBytes(PART * 4);
    const uploadId = await store.createMultipart('k', 'video/mp4', { partSize: PART });
    const sizes = [PART / 2, PART * 2, PART / 2, PART / 4, PART / 4, PART / 2]; // halves in slots, the double in a file
    let offset = 0;
    const parts = [];
    for (const [i, size] of sizes.entries()) {
      parts.push(await send(store, uploadId, i + 1, content.subarray(offset, offset + size), i !== 4));
      offset += size;
    }
    const dir = join(root, 'staging', uploadId);
    expect(readdirSync(dir).filter((f) => f.startsWith('p')).map((f) => f.slice(0, 6)).sort()).toEqual(['p00002', 'p00005']);
    expect(await store.listParts('k', uploadId)).toEqual(parts);
    // A re-send while the slot is busy goes to a file of its own.
    writeFileSync(join(dir, 's00006.lock'), '');
    parts[5] = await send(store, uploadId, 6, content.subarray(offset - PART / 2));
    expect(readdirSync(dir).some((f) => f.startsWith('p00006-'))).toBe(true);
    expect(readdirSync(dir).some((f) => f.startsWith('s00006-'))).toBe(false);
    const info = await store.completeMultipart('k', uploadId, parts, { expectedSha256Prefix: sha256(content).slice(0, 16), expectedSize: content.length });
    expect(info.sha256).toBe(sha256(content));
    expect(readFileSync(blobPath(root, content)).equals(content)).toBe(true);
  });

  it('never renames a staging file that a part write may still reach: it copies instead, and a write during a complete gets its own file', async () => {
    const { root, store } = fsStore();
    const content = randomBytes(PART * 2);
    const uploadId = await store.createMultipart('k', 'video/mp4', { partSize: PART });
    const parts = [await send(store, uploadId, 1, content.subarray(0, PART)), await send(store, uploadId, 2, content.subarray(PART))];
    const dir = join(root, 'staging', uploadId);
    writeFileSync(join(dir, 's00003.lock'), ''); // part 3 being written
    const { ino } = statSync(join(dir, 'data'));
    expect((await store.completeMultipart('k', uploadId, parts)).sha256).toBe(sha256(content));
    expect(statSync(blobPath(root, content)).ino).not.toBe(ino);
    expect(readFileSync(blobPath(root, content)).equals(content)).toBe(true);

    const other = await store.createMultipart('k', 'video/mp4', { partSize: PART });
    writeFileSync(join(root, 'staging', other, 'completing.lock'), ''); // a complete in progress
    await send(store, other, 1, content.subarray(0, PART));
    expect(readdirSync(join(root, 'staging', other)).filter((f) => /^[ps]00001-/.test(f)).map((f) => f[0])).toEqual(['p']);
  });

  it('answers a complete killed between its rename and its clean-up from the record it left, and only then', async () => {
    const { root, store } = fsStore();
    const content = randomBytes(PART * 2 + 7);
    const uploadId = await store.createMultipart('k', 'video/mp4', { partSize: PART });
    const parts = [];
    for (let n = 1; n <= 3; n++) parts.push(await send(store, uploadId, n, content.subarray((n - 1) * PART, n * PART)));
    const dir = join(root, 'staging', uploadId);
    const staged = readdirSync(dir).filter((f) => f !== 'data').map((f) => [f, readFileSync(join(dir, f))] as const);
    const checks = { expectedSha256Prefix: sha256(content).slice(0, 16), expectedSize: content.length };
    const info = await store.completeMultipart('k', uploadId, parts, checks);
    // What kill -9 right after the rename leaves: the staging folder without `data`, the complete's lock, its record.
    const crashed = (record: boolean) => {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      for (const [f, bytes] of staged) writeFileSync(join(dir, f), bytes);
      writeFileSync(join(dir, 'completing.lock'), '');
      if (record) writeFileSync(join(dir, 'adopted.json'), JSON.stringify(info));
    };
    crashed(true);
    expect(await store.completeMultipart('k', uploadId, parts, checks)).toEqual(info);
    expect(readdirSync(join(root, 'staging'))).toEqual([]);
    crashed(true);
    await expect(store.completeMultipart('k', uploadId, parts, { ...checks, expectedSize: content.length + 1 })).rejects.toMatchObject({ status: 400 });
    crashed(false);
    await expect(store.completeMultipart('k', uploadId, parts, checks)).rejects.toMatchObject({ status: 409 });
    expect(readFileSync(blobPath(root, content)).equals(content)).toBe(true);
  });

  it('takes a part re-sent with different bytes in place of the first, and refuses the first one\'s ETag', async () => {
    const { root, store } = fsStore();
    const content = randomBytes(PART + 10);
    const uploadId = await store.createMultipart('k', 'video/mp4', { partSize: PART });
    const first = await send(store, uploadId, 1, randomBytes(PART));
    const parts = [await send(store, uploadId, 1, content.subarray(0, PART)), await send(store, uploadId, 2, content.subarray(PART))];
    expect(parts[0].etag).toBe(md5(content.subarray(0, PART)));
    expect(await store.listParts('k', uploadId)).toEqual(parts);
    await expect(store.completeMultipart('k', uploadId, [first, parts[1]])).rejects.toMatchObject({ status: 400, code: 'invalid_part' });
    // A wrong hash or size stores nothing and keeps the staged upload as it was.
    await expect(store.completeMultipart('k', uploadId, parts, { expectedSha256Prefix: '0000000000000000' })).rejects.toMatchObject({ status: 400 });
    await expect(store.completeMultipart('k', uploadId, parts, { expectedSize: content.length + 1 })).rejects.toMatchObject({ status: 400, code: 'size_mismatch' });
    expect(await store.exists(sha256(content))).toBe(false);
    expect(await store.listParts('k', uploadId)).toEqual(parts);
    expect((await store.completeMultipart('k', uploadId, parts)).sha256).toBe(sha256(content));
    expect(readFileSync(blobPath(root, content)).equals(content)).toBe(true);
  });

  it('keeps a received part when a re-send of it breaks off', async () => {
    const { store } = fsStore();
    const uploadId = await store.createMultipart('k', 'video/mp4', { partSize: PART });
    const first = await send(store, uploadId, 1, randomBytes(PART), false); // length unknown: a file of its own
    async function* broken() {
      yield randomBytes(100);
      throw new Error('connection reset');
    }
    await expect(store.putPart('k', uploadId, 1, broken(), { expectedSize: PART })).rejects.toMatchObject({ status: 400 });
    expect(await store.listParts('k', uploadId)).toEqual([first]);
  });

  it('stores identical content once: a second upload of it replaces the blob with the same bytes', async () => {
    const { root, store } = fsStore();
    const content = randomBytes(PART + 1);
    for (let i = 0; i < 2; i++) {
      const uploadId = await store.createMultipart('k', 'video/mp4', { partSize: PART });
      const parts = [await send(store, uploadId, 1, content.subarray(0, PART)), await send(store, uploadId, 2, content.subarray(PART))];
      await store.completeMultipart('k', uploadId, parts);
    }
    const listed = [];
    for await (const blob of store.list()) listed.push(blob.sha256);
    expect(listed).toEqual([sha256(content)]);
    expect(readFileSync(blobPath(root, content)).equals(content)).toBe(true);
  });
});

describe('multipart configuration', () => {
  it('reads part size, expiry, URL lifetimes and the public URL from env or INI, with defaults', () => {
    const defaults = loadConfig({ config: undefined }, {});
    expect(defaults.lake).toMatchObject({ partSize: 10 * 1024 * 1024, uploadExpiry: 7 * 86_400, downloadUrlTtl: 3600, partUrlTtl: 86_400 });
    expect(defaults.lake.publicUrl).toBeUndefined();
    const env = loadConfig({}, { DREAMLAKE_UPLOAD_EXPIRY: '2d', DREAMLAKE_DOWNLOAD_URL_TTL: '15m', DREAMLAKE_PART_URL_TTL: '90', DREAMLAKE_PART_SIZE: '5242880', DREAMLAKE_PUBLIC_URL: 'https://lake.example.com/' });
    expect(env.lake).toMatchObject({ uploadExpiry: 172_800, downloadUrlTtl: 900, partUrlTtl: 90, partSize: 5_242_880, publicUrl: 'https://lake.example.com' });
    const dir = mkdtempSync(join(tmpdir(), 'dreamlake-ini-'));
    roots.push(dir);
    writeFileSync(join(dir, 'dreamlake.ini'), '[dreamlake]\nupload_expiry = 1h\npublic_url = http://10.0.0.5:8080/lake\n');
    const ini = loadConfig({ config: join(dir, 'dreamlake.ini') }, { DREAMLAKE_DOWNLOAD_URL_TTL: '60' });
    expect(ini.lake).toMatchObject({ uploadExpiry: 3600, downloadUrlTtl: 60, publicUrl: 'http://10.0.0.5:8080/lake' });
    expect(() => loadConfig({}, { DREAMLAKE_UPLOAD_EXPIRY: 'soon' })).toThrow(/upload_expiry/);
    expect(() => loadConfig({}, { DREAMLAKE_DOWNLOAD_URL_TTL: '0' })).toThrow(/download_url_ttl/);
    expect(() => loadConfig({}, { DREAMLAKE_PUBLIC_URL: 'lake.example.com' })).toThrow(/public_url/);
    expect(() => loadConfig({}, { DREAMLAKE_PUBLIC_URL: 'ftp://lake.example.com' })).toThrow(/public_url/);
  });
});
