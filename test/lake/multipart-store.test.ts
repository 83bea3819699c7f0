import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { createFsBlobStore } from '../../src/core/blobs/fs-store.js';
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
    expect(readdirSync(dir).sort()).toEqual(['meta.json', 'p00001-900150983cd24fb0d6963f7d28e17f72', 'running.tmp']);
    // Staged data is never listed as a blob.
    const listed = [];
    for await (const blob of store.list()) listed.push(blob);
    expect(listed).toEqual([]);
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
