import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { BlobStore } from '../../src/core/blobs/store.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');

async function bytesOf(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

/** One part's presigned URL, or null when the store receives parts itself (presignParts answers null). */
export const presignedPartUrl = async (store: BlobStore, key: string, uploadId: string, n: number, expiresInSeconds: number) =>
  (await store.presignParts(key, uploadId, [n], expiresInSeconds))?.get(n) ?? null;

/**
 * What every BlobStore's multipart staging must do, for any store that receives parts itself (presignParts
 * answers null) or through presigned URLs (`sendPart` does the PUT). Call it from a test file with a factory.
 */
export function multipartContract(
  name: string,
  makeStore: () => BlobStore,
  options: {
    minPartSize?: number;
    /** S3: CompleteMultipartUpload consumes the staged upload before its hash can be checked, so a mismatch discards it. */
    checksumMismatchDiscards?: boolean;
  } = {},
) {
  const partSize = options.minPartSize ?? 1024;
  const send = async (store: BlobStore, key: string, uploadId: string, n: number, bytes: Buffer) => {
    const url = await presignedPartUrl(store, key, uploadId, n, 600);
    if (url === null) return store.putPart(key, uploadId, n, Readable.from([bytes]), { expectedSize: bytes.length });
    const res = await fetch(url, { method: 'PUT', body: new Uint8Array(bytes) });
    if (!res.ok) throw new Error(`part ${n}: ${res.status}`);
    return { partNumber: n, etag: String(res.headers.get('etag')).replace(/"/g, ''), size: bytes.length };
  };

  describe(`${name}: multipart staging`, () => {
    it('assembles parts sent out of order and re-sent into one content-addressed blob', async () => {
      const store = makeStore();
      const content = randomBytes(partSize * 2 + 17);
      const pieces = [content.subarray(0, partSize), content.subarray(partSize, 2 * partSize), content.subarray(2 * partSize)];
      const key = `uploads/test/${randomBytes(8).toString('hex')}`;
      const uploadId = await store.createMultipart(key, 'application/octet-stream', { partSize });
      await send(store, key, uploadId, 2, randomBytes(partSize)); // replaced below
      const sent = await Promise.all([3, 1, 2].map((n) => send(store, key, uploadId, n, pieces[n - 1])));
      for (const part of sent) expect(part.etag).toBe(md5(pieces[part.partNumber - 1]));
      const listed = await store.listParts(key, uploadId);
      expect(listed).toEqual(pieces.map((p, i) => ({ partNumber: i + 1, etag: md5(p), size: p.length })));
      await expect(store.completeMultipart(key, uploadId, listed, { expectedSha256Prefix: sha256(randomBytes(4)).slice(0, 16) })).rejects.toMatchObject({ status: 400 });
      expect(await store.exists(sha256(content))).toBe(false);
      let staged = { uploadId, parts: listed as { partNumber: number; etag: string }[] };
      if (options.checksumMismatchDiscards) {
        await expect(store.listParts(key, uploadId)).rejects.toMatchObject({ status: 404 });
        const again = await store.createMultipart(key, 'application/octet-stream', { partSize });
        staged = { uploadId: again, parts: await Promise.all([1, 2, 3].map((n) => send(store, key, again, n, pieces[n - 1]))) };
      }
      const info = await store.completeMultipart(key, staged.uploadId, staged.parts, { expectedSha256Prefix: sha256(content).slice(0, 16), expectedSize: content.length });
      expect(info).toEqual({ sha256: sha256(content), size: content.length });
      expect((await bytesOf(await store.get(info.sha256))).equals(content)).toBe(true); // (toEqual on MiB-sized Buffers takes minutes)
      await expect(store.listParts(key, staged.uploadId)).rejects.toMatchObject({ status: 404 });
    });

    it('keeps a part that was answered: the same part sent twice at once, or a re-send cut short', async () => {
      const store = makeStore();
      const key = `uploads/test/${randomBytes(8).toString('hex')}`;
      const uploadId = await store.createMultipart(key, 'application/octet-stream', { partSize });
      const first = randomBytes(partSize);
      // Two clients resuming one upload send the same bytes; each write once replaced the other's record.
      for (let round = 0; round < 12; round++) {
        const [a, b] = await Promise.all([send(store, key, uploadId, 1, first), send(store, key, uploadId, 1, first)]);
        expect(a.etag).toBe(md5(first));
        expect(b.etag).toBe(md5(first));
        expect(await store.listParts(key, uploadId)).toEqual([{ partNumber: 1, etag: md5(first), size: partSize }]);
      }
      if ((await presignedPartUrl(store, key, uploadId, 1, 600)) === null) {
        async function* cutShort() {
          yield randomBytes(partSize / 2);
          throw new Error('connection reset');
        }
        await expect(store.putPart(key, uploadId, 1, Readable.from(cutShort()), { expectedSize: partSize })).rejects.toThrow();
        expect(await store.listParts(key, uploadId)).toEqual([{ partNumber: 1, etag: md5(first), size: partSize }]);
      }
      const second = randomBytes(partSize);
      const content = Buffer.concat([first, second]);
      const parts = [{ partNumber: 1, etag: md5(first) }, await send(store, key, uploadId, 2, second)];
      const info = await store.completeMultipart(key, uploadId, parts, { expectedSha256Prefix: sha256(content).slice(0, 16), expectedSize: content.length });
      expect((await bytesOf(await store.get(info.sha256))).equals(content)).toBe(true);
    });

    it('stays completable when the completion cannot be recorded (onStored fails: a crash before the caller records it)', async () => {
      const store = makeStore();
      const key = `uploads/test/${randomBytes(8).toString('hex')}`;
      const uploadId = await store.createMultipart(key, 'application/octet-stream', { partSize });
      const content = randomBytes(partSize + 10);
      const parts = [await send(store, key, uploadId, 1, content.subarray(0, partSize)), await send(store, key, uploadId, 2, content.subarray(partSize))];
      const checks = { expectedSha256Prefix: sha256(content).slice(0, 16), expectedSize: content.length };
      const failing = async () => {
        throw new Error('the database went away');
      };
      await expect(store.completeMultipart(key, uploadId, parts, { ...checks, onStored: failing })).rejects.toThrow('the database went away');
      const recorded: unknown[] = [];
      const info = await store.completeMultipart(key, uploadId, parts, { ...checks, onStored: async (stored) => void recorded.push(stored) });
      expect(info).toEqual({ sha256: sha256(content), size: content.length });
      expect(recorded).toEqual([info]);
      expect((await bytesOf(await store.get(info.sha256))).equals(content)).toBe(true);
      await store.abortMultipart(key, uploadId);
    });

    it('refuses unknown parts or ETags with a 400 and keeps the staged upload; abort discards it', async () => {
      const store = makeStore();
      const content = randomBytes(100);
      const key = `uploads/test/${randomBytes(8).toString('hex')}`;
      const uploadId = await store.createMultipart(key, 'application/octet-stream');
      const part = await send(store, key, uploadId, 1, content);
      await expect(store.completeMultipart(key, uploadId, [{ partNumber: 1, etag: md5(randomBytes(3)) }])).rejects.toMatchObject({ status: 400 });
      await expect(store.completeMultipart(key, uploadId, [part, { partNumber: 2, etag: part.etag }])).rejects.toMatchObject({ status: 400 });
      expect(await store.listParts(key, uploadId)).toHaveLength(1);
      await expect(store.listParts(`${key}-other`, uploadId)).rejects.toMatchObject({ status: 404 });
      await store.abortMultipart(key, uploadId);
      await expect(store.listParts(key, uploadId)).rejects.toMatchObject({ status: 404 });
      await store.abortMultipart(key, uploadId); // a missing one is no error
      expect(await store.exists(sha256(content))).toBe(false);
    });
  });
}
