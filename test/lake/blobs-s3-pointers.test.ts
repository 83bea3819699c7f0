import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { CompleteMultipartUploadCommand, DeleteObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectGarbage } from '../../src/core/blobs/gc.js';
import { createS3BlobStore } from '../../src/core/blobs/s3-store.js';
import type { PartInfo } from '../../src/core/blobs/store.js';
import { presignedPartUrl } from '../helpers/multipart-contract.js';
import { emptyS3Prefix, S3_SKIP_REASON, S3_TEST, s3Contents, testPrefix } from '../helpers/s3.js';

// The S3 store keeps a verified multipart upload where CompleteMultipartUpload assembled it (data/…) and makes
// blobs/<sha256> an empty pointer to it: these are the paths that follow pointers, settle races and crashes.

const MiB = 1024 * 1024;
const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const readAll = async (stream: AsyncIterable<unknown>) => {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
};

if (!S3_TEST) console.log(`\n*** ${S3_SKIP_REASON} ***\n`);

describe.skipIf(!S3_TEST)('S3 blob store: pointer blobs', () => {
  // A prefix of each test's own: what one test leaves behind never shows in another's listing.
  let prefix: string;
  let store: ReturnType<typeof createS3BlobStore>;
  beforeEach(() => {
    prefix = testPrefix();
    // Small ranges, so that verifying 10 MiB takes several ranged GETs in flight.
    store = createS3BlobStore({ ...S3_TEST!, prefix, verifyRead: { width: 3, rangeSize: MiB + 1 } });
  });
  afterEach(async () => {
    await emptyS3Prefix(prefix);
    store.client.destroy();
  });
  const objects = async () => (await s3Contents(prefix)).objects;
  const put = (Key: string, body: Buffer | Uint8Array, Metadata?: Record<string, string>) =>
    store.client.send(new PutObjectCommand({ Bucket: store.bucket, Key: prefix + Key, Body: body, ContentLength: body.length, Metadata }));

  /** A client's multipart upload of `content` in 5 MiB parts through presigned URLs, not completed. */
  const stage = async (content: Buffer, key = `uploads/u/${randomUUID()}`) => {
    const uploadId = await store.createMultipart(key, 'application/octet-stream');
    const parts: PartInfo[] = [];
    for (let n = 1, at = 0; at < content.length; n++, at += 5 * MiB) {
      const body = content.subarray(at, at + 5 * MiB);
      const res = await fetch((await presignedPartUrl(store, key, uploadId, n, 600))!, { method: 'PUT', body: new Uint8Array(body) });
      expect(res.status).toBe(200);
      parts.push({ partNumber: n, etag: res.headers.get('etag')!.replace(/"/g, ''), size: body.length });
    }
    const location = `data/mp/${key}/${uploadId.slice(0, uploadId.indexOf('.'))}`;
    return { key, uploadId, parts, location };
  };
  const upload = async (content: Buffer, key?: string) => {
    const s = await stage(content, key);
    const info = await store.completeMultipart(s.key, s.uploadId, s.parts, { expectedSha256Prefix: sha256(content).slice(0, 16), expectedSize: content.length });
    return { ...s, info };
  };

  it('serves a pointer blob like a plain one: ranges, exists, presigned GET with a range, list, delete with the grace period', async () => {
    const content = randomBytes(10 * MiB + 123);
    const { info, location } = await upload(content);
    expect(info).toEqual({ sha256: sha256(content), size: content.length });
    expect(await objects()).toEqual([`blobs/${info.sha256}`, location]);
    expect((await readAll(await store.get(info.sha256))).equals(content)).toBe(true);
    for (const [start, end] of [[0, 0], [5 * MiB - 1, 5 * MiB + 1], [content.length - 10, content.length - 1]]) {
      expect((await readAll(await store.get(info.sha256, { start, end }))).equals(content.subarray(start, end + 1))).toBe(true);
    }
    expect(await store.exists(info.sha256)).toBe(true);

    const url = (await store.presignGet(info.sha256, { filename: 'clip.mp4', contentType: 'video/mp4', expiresInSeconds: 600 }))!;
    expect(url).toContain(`/${location}?`);
    const ranged = await fetch(url, { headers: { range: 'bytes=100-199' } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-range')).toBe(`bytes 100-199/${content.length}`);
    expect(ranged.headers.get('content-type')).toBe('video/mp4');
    expect(ranged.headers.get('content-disposition')).toContain('clip.mp4');
    expect(Buffer.from(await ranged.arrayBuffer()).equals(content.subarray(100, 200))).toBe(true);

    const listed = [];
    for await (const b of store.list()) listed.push(b);
    expect(listed).toEqual([{ sha256: info.sha256, size: content.length, modifiedAt: expect.any(Date) }]);

    expect(await store.delete(info.sha256, { olderThan: new Date(Date.now() - 60_000) })).toBe(false); // young
    expect(await store.get(info.sha256, { start: 0, end: 0 })).toBeDefined();
    expect(await store.delete(info.sha256, { olderThan: new Date(Date.now() + 60_000) })).toBe(true);
    expect(await objects()).toEqual([]);
    expect(await store.exists(info.sha256)).toBe(false);
    await expect(store.get(info.sha256, { start: 0, end: 9 })).rejects.toMatchObject({ status: 404 });
  });

  it('still serves blobs stored as plain objects (earlier versions), and gc removes pointer blobs with their bytes', async () => {
    const old = randomBytes(6 * MiB + 5);
    await put(`blobs/${sha256(old)}`, old);
    expect((await readAll(await store.get(sha256(old), { start: 6 * MiB, end: 6 * MiB + 4 }))).equals(old.subarray(6 * MiB))).toBe(true);
    const url = (await store.presignGet(sha256(old), { filename: 'old.bin', contentType: 'application/octet-stream', expiresInSeconds: 600 }))!;
    expect(url).toContain(`/blobs/${sha256(old)}?`);
    expect(Buffer.from(await (await fetch(url, { headers: { range: 'bytes=0-9' } })).arrayBuffer()).equals(old.subarray(0, 10))).toBe(true);

    const big = randomBytes(10 * MiB + 1);
    const kept = randomBytes(5 * MiB + 1);
    const { location } = await upload(big);
    const { location: keptLocation } = await upload(kept);
    const report = await collectGarbage(store, {
      graceMs: 0,
      now: new Date(Date.now() + 60_000),
      referenced: async (shas) => new Set(shas.filter((s) => s === sha256(kept))),
    });
    expect(report).toMatchObject({ scanned: 3, referenced: 1, deleted: 2, deletedBytes: old.length + big.length });
    expect(await objects()).toEqual([`blobs/${sha256(kept)}`, keptLocation]);
    expect(location).not.toBe(keptLocation);
    expect((await readAll(await store.get(sha256(kept)))).equals(kept)).toBe(true);
    await store.delete(sha256(kept));
  });

  it('stores content once when two uploads of it complete together, or one after the other', async () => {
    const content = randomBytes(5 * MiB + 77);
    const staged = await Promise.all([stage(content), stage(content), stage(content)]);
    const checks = { expectedSha256Prefix: sha256(content).slice(0, 16), expectedSize: content.length };
    const infos = await Promise.all(staged.map((s) => store.completeMultipart(s.key, s.uploadId, s.parts, checks)));
    for (const info of infos) expect(info).toEqual({ sha256: sha256(content), size: content.length });
    const later = await upload(content);
    expect(later.info.sha256).toBe(sha256(content));
    const all = await objects();
    const pointer = await store.client.send(new HeadObjectCommand({ Bucket: store.bucket, Key: `${prefix}blobs/${sha256(content)}` }));
    // Exactly the object the pointer names is left: the others were deleted by their own complete.
    expect(all.filter((k) => k.startsWith('data/'))).toEqual([pointer.Metadata!.location]);
    expect(all.filter((k) => k.startsWith('pending/'))).toEqual([]);
    expect((await readAll(await store.get(sha256(content)))).equals(content)).toBe(true);
    await store.delete(sha256(content));
    expect(await objects()).toEqual([]);
  });

  it('leaves no unreferenced object when two completes of the same content on one server both find no pointer yet', async () => {
    // The interleaving that once left an orphan: both look for the pointer before either wrote it, the first reads
    // its own pointer back, and only then does the second's pointer land over it.
    const content = randomBytes(5 * MiB + 3);
    const pointerKey = `${prefix}blobs/${sha256(content)}`;
    let waitingHeads = 0;
    let release = () => {};
    const bothLooked = new Promise<void>((resolve) => (release = resolve));
    let pointerPuts = 0;
    store.client.middlewareStack.add(
      (next, context) => async (args) => {
        const key = (args.input as { Key?: string }).Key;
        if (key === pointerKey && context.commandName === 'HeadObjectCommand' && waitingHeads < 2) {
          if (++waitingHeads === 2) release();
          await Promise.race([bothLooked, new Promise((r) => setTimeout(r, 1500))]);
        }
        if (key === pointerKey && context.commandName === 'PutObjectCommand' && pointerPuts++ > 0) {
          await new Promise((r) => setTimeout(r, 400));
        }
        return next(args);
      },
      { step: 'initialize' },
    );
    const staged = await Promise.all([stage(content), stage(content)]);
    const checks = { expectedSha256Prefix: sha256(content).slice(0, 16), expectedSize: content.length };
    await Promise.all(staged.map((s) => store.completeMultipart(s.key, s.uploadId, s.parts, checks)));
    const pointer = await store.client.send(new HeadObjectCommand({ Bucket: store.bucket, Key: pointerKey }));
    const all = await objects();
    expect(all.filter((k) => k.startsWith('data/'))).toEqual([pointer.Metadata!.location]);
    expect(all.filter((k) => k.startsWith('pending/'))).toEqual([]);
    expect(pointerPuts).toBe(1);
    expect((await readAll(await store.get(sha256(content)))).equals(content)).toBe(true);
  });

  it('deletes its own object when another writer of the same content lands its pointer last (no create-if-absent on S3)', async () => {
    const content = randomBytes(5 * MiB + 11);
    const first = await upload(content);
    // The other writer: its object is verified and its pointer is about to be written (here: right after ours).
    await store.client.send(new DeleteObjectCommand({ Bucket: store.bucket, Key: `${prefix}blobs/${first.info.sha256}` }));
    const racing = createS3BlobStore({ ...S3_TEST!, prefix });
    racing.client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        const input = args.input as { Key?: string; Metadata?: Record<string, string> };
        if (context.commandName === 'PutObjectCommand' && input.Key === `${prefix}blobs/${first.info.sha256}`) {
          await put(`blobs/${first.info.sha256}`, new Uint8Array(0), { location: first.location, size: String(content.length) });
        }
        return result;
      },
      { step: 'initialize' },
    );
    const s = await stage(content);
    expect(await racing.completeMultipart(s.key, s.uploadId, s.parts, { expectedSha256Prefix: sha256(content).slice(0, 16) })).toEqual(first.info);
    racing.client.destroy();
    expect(await objects()).toEqual([`blobs/${first.info.sha256}`, first.location]);
    expect((await readAll(await store.get(first.info.sha256))).equals(content)).toBe(true);
    await store.delete(first.info.sha256);
  });

  it('refuses content that is not what was announced (same size, other bytes): a 400, and nothing left anywhere', async () => {
    const content = randomBytes(5 * MiB + 9);
    const announced = Buffer.from(content);
    announced[12345] ^= 1;
    const s = await stage(content);
    await expect(
      store.completeMultipart(s.key, s.uploadId, s.parts, { expectedSha256Prefix: sha256(announced).slice(0, 16), expectedSize: announced.length }),
    ).rejects.toMatchObject({ status: 400, code: 'checksum_mismatch' });
    expect(await store.exists(sha256(content))).toBe(false);
    expect(await store.exists(sha256(announced))).toBe(false);
    expect(await s3Contents(prefix)).toEqual({ objects: [], uploads: [] });
  });

  it('finishes a complete cut short after CompleteMultipartUpload when the client retries it', async () => {
    const content = randomBytes(5 * MiB + 3);
    const s = await stage(content);
    // What a server killed right after CompleteMultipartUpload leaves: the assembled object and its marker.
    await put(`pending/${s.location.slice('data/'.length)}`, new Uint8Array(0));
    await store.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: store.bucket,
        Key: prefix + s.location,
        UploadId: s.uploadId.slice(s.uploadId.indexOf('.') + 1),
        MultipartUpload: { Parts: s.parts.map((p) => ({ PartNumber: p.partNumber, ETag: `"${p.etag}"` })) },
      }),
    );
    const info = await store.completeMultipart(s.key, s.uploadId, s.parts, { expectedSha256Prefix: sha256(content).slice(0, 16) });
    expect(info).toEqual({ sha256: sha256(content), size: content.length });
    expect(await objects()).toEqual([`blobs/${info.sha256}`, s.location]);
    expect((await readAll(await store.get(info.sha256, { start: 5 * MiB, end: 5 * MiB + 2 }))).equals(content.subarray(5 * MiB))).toBe(true);
    await store.delete(info.sha256);
  });

  it('never lets a second complete of the same upload (Swift assembles it again) change the bytes behind a pointer', async () => {
    const content = randomBytes(10 * MiB + 5);
    const s = await stage(content);
    const firstTwo = content.subarray(0, 10 * MiB);
    const [whole, partial] = await Promise.allSettled([
      store.completeMultipart(s.key, s.uploadId, s.parts, { expectedSha256Prefix: sha256(content).slice(0, 16) }),
      store.completeMultipart(s.key, s.uploadId, s.parts.slice(0, 2), { expectedSha256Prefix: sha256(firstTwo).slice(0, 16) }),
    ]);
    expect(whole).toMatchObject({ status: 'fulfilled', value: { sha256: sha256(content), size: content.length } });
    // The second found the upload assembled (by the first) and checked those bytes against what it announced.
    expect(partial).toMatchObject({ status: 'rejected', reason: { status: 400 } });
    expect(await store.exists(sha256(firstTwo))).toBe(false);
    expect((await readAll(await store.get(sha256(content)))).equals(content)).toBe(true);
    expect(await objects()).toEqual([`blobs/${sha256(content)}`, s.location]);
    await store.delete(sha256(content));
  });

  it('sweeps what a crash left (an object not yet verified, or verified but never pointed to), never an object a pointer names', async () => {
    const live = randomBytes(5 * MiB + 1);
    const alsoLive = randomBytes(5 * MiB + 2);
    const a = await upload(live);
    const b = await upload(alsoLive);
    // Markers a crash left next to live objects: after the pointer was written (with the sha256), and one
    // without it (a concurrent complete of the same upload cut short while reading): the sweep must hash that one.
    await put(`pending/${a.location.slice(5)}`, new Uint8Array(0), { sha256: a.info.sha256 });
    await put(`pending/${b.location.slice(5)}`, new Uint8Array(0));
    // Leftovers: assembled but killed before its hash was known; verified but killed before its pointer; an
    // object whose pointer a collector deleted before it was killed; an earlier version's staging object.
    const unverified = randomBytes(1000);
    const leftover1 = `data/mp/uploads/u/crashed/${randomUUID()}`;
    await put(leftover1, unverified);
    await put(`pending/${leftover1.slice(5)}`, new Uint8Array(0));
    const verified = randomBytes(2000);
    const leftover2 = `data/put/${randomUUID()}`;
    await put(leftover2, verified);
    await put(`pending/${leftover2.slice(5)}`, new Uint8Array(0), { sha256: sha256(verified) });
    const leftover3 = `data/mp/uploads/u/collected/${randomUUID()}`;
    await put(leftover3, randomBytes(10));
    await put(`pending/${leftover3.slice(5)}`, new Uint8Array(0), { sha256: sha256('a blob that is gone') });
    await put('staging/uploads/u/old', randomBytes(10));

    expect(await store.sweep(new Date(Date.now() - 60_000))).toBe(0); // all younger than that
    expect(await store.sweep(new Date(Date.now() + 60_000))).toBe(4);
    expect(await objects()).toEqual([`blobs/${a.info.sha256}`, `blobs/${b.info.sha256}`, a.location, b.location].sort());
    expect((await readAll(await store.get(a.info.sha256))).equals(live)).toBe(true);
    expect((await readAll(await store.get(b.info.sha256))).equals(alsoLive)).toBe(true);
    expect(await store.exists(sha256(unverified))).toBe(false);
    expect(await store.exists(sha256(verified))).toBe(false);
  });
});
