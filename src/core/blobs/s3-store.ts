import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { AppError, badRequest, notFound, payloadTooLarge } from '../errors.js';
import { collectingEvery } from '../memory.js';
import {
  isSha256Hex,
  verifyContent,
  type BlobEntry,
  type BlobInfo,
  type BlobStore,
  type CompleteChecks,
  type PartInfo,
  type PartRef,
} from './store.js';

export interface S3StoreOptions {
  /** e.g. `http://127.0.0.1:18080`; unset means AWS itself. */
  endpoint?: string;
  region: string;
  bucket: string;
  /** Prepended to every key (e.g. `dreamlake/`); empty for the bucket's root. */
  prefix: string;
  forcePathStyle: boolean;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Part size of the store's own multipart writes (put, copies); at least 5 MiB. Default 8 MiB. */
  partSize?: number;
  /** Objects larger than this are copied as UploadPartCopy ranges, 4 at a time, not one CopyObject. Default 256 MiB, at most 5 GiB (S3's limit). */
  maxCopyObjectBytes?: number;
  /** Part size of those part copies. Default 128 MiB. */
  copyPartSize?: number;
}


const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const STAGING_KEY = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*){0,8}$/;
const MAX_PART_NUMBER = 10_000;
/** Part copies in flight: a server copies ranges in parallel faster than one object (Swift: 227 vs 182 MB/s for 5 GiB). */
const PARALLEL_COPIES = 4;

/**
 * Blobs in an S3 bucket (AWS, or any S3 API: Swift's s3api, Ceph, MinIO…). Keys under the configured prefix:
 * - `blobs/<sha256>`: the content-addressed blobs (never rewritten once there);
 * - `touch/<sha256>`: an empty marker re-written whenever an upload finds its content already stored (the
 *   blob's own LastModified cannot be refreshed cheaply past 5 GiB); its age counts as the blob's age for `delete`;
 * - `tmp/<uuid>`: bodies of `put` while they stream in (multipart, via lib-storage) before the hash is known;
 * - `staging/<key>`: the BSS multipart uploads of clients, and, between CompleteMultipartUpload and the copy
 *   into its content address, the assembled object.
 *
 * Nothing is ever held whole in memory: `put` buffers at most a couple of parts, `completeMultipart` hashes
 * the assembled object as it streams back, and copies are server-side.
 */
export function createS3BlobStore(options: S3StoreOptions): BlobStore & { client: S3Client; bucket: string; prefix: string } {
  const client = new S3Client({
    region: options.region,
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle,
    credentials:
      options.accessKeyId && options.secretAccessKey
        ? { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey }
        : undefined,
    // Non-AWS S3 servers (Swift, Ceph) reject the SDK's default aws-chunked trailing checksums.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const Bucket = options.bucket;
  const prefix = options.prefix;
  const partSize = Math.max(5 * MiB, options.partSize ?? 8 * MiB);
  const maxCopyObjectBytes = Math.min(5 * GiB, options.maxCopyObjectBytes ?? 256 * MiB);
  const copyPartSize = Math.max(5 * MiB, options.copyPartSize ?? 128 * MiB);

  const blobKey = (sha256: string) => {
    if (!isSha256Hex(sha256)) throw badRequest('Not a sha256 digest.');
    return `${prefix}blobs/${sha256}`;
  };
  const touchKey = (sha256: string) => `${prefix}touch/${sha256}`;
  const stagingKey = (key: string) => {
    if (!STAGING_KEY.test(key) || key.length > 512) throw badRequest('Not a staging key.');
    return `${prefix}staging/${key}`;
  };

  /** HEAD: size and LastModified, or null when the object is missing. */
  const head = async (Key: string) => {
    try {
      const out = await client.send(new HeadObjectCommand({ Bucket, Key }));
      return { size: out.ContentLength ?? 0, modifiedAt: out.LastModified ?? new Date(0) };
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  };

  const deleteKey = (Key: string) => client.send(new DeleteObjectCommand({ Bucket, Key }));

  /** Server-side copy; past `maxCopyObjectBytes`, a multipart upload of UploadPartCopy ranges copied in parallel. */
  const copy = async (from: string, to: string, size: number) => {
    const CopySource = `${Bucket}/${from.split('/').map(encodeURIComponent).join('/')}`;
    if (size <= maxCopyObjectBytes) {
      await client.send(new CopyObjectCommand({ Bucket, Key: to, CopySource, ContentType: 'application/octet-stream', MetadataDirective: 'REPLACE' }));
      return;
    }
    const each = Math.max(copyPartSize, Math.ceil(size / MAX_PART_NUMBER));
    const count = Math.ceil(size / each);
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key: to, ContentType: 'application/octet-stream' }));
    try {
      const parts: CompletedPart[] = [];
      let next = 0;
      const copier = async () => {
        for (let i = next++; i < count; i = next++) {
          const range = `bytes=${i * each}-${Math.min(size, (i + 1) * each) - 1}`;
          const out = await client.send(new UploadPartCopyCommand({ Bucket, Key: to, UploadId, PartNumber: i + 1, CopySource, CopySourceRange: range }));
          parts[i] = { PartNumber: i + 1, ETag: out.CopyPartResult?.ETag };
        }
      };
      await Promise.all(Array.from({ length: Math.min(PARALLEL_COPIES, count) }, copier));
      await client.send(new CompleteMultipartUploadCommand({ Bucket, Key: to, UploadId, MultipartUpload: { Parts: parts } }));
    } catch (err) {
      await client.send(new AbortMultipartUploadCommand({ Bucket, Key: to, UploadId })).catch(() => undefined);
      throw err;
    }
  };

  /**
   * Moves verified bytes at `from` into the content address (dedup: when the blob is already there, only its
   * touch marker is refreshed), then removes `from`.
   */
  const settle = async (from: string, info: BlobInfo): Promise<BlobInfo> => {
    try {
      await storeAt(info.sha256, () => copy(from, blobKey(info.sha256), info.size));
    } finally {
      await deleteKey(from).catch(() => undefined);
    }
    return info;
  };

  /** Writes a blob through `write` unless it is already stored; either way the blob counts as young again. */
  const storeAt = async (sha256: string, write: () => Promise<unknown>) => {
    if (await head(blobKey(sha256))) {
      await client.send(new PutObjectCommand({ Bucket, Key: touchKey(sha256), Body: new Uint8Array(0), ContentLength: 0 }));
    } else {
      await write();
    }
  };

  const put = async (source: AsyncIterable<Uint8Array>, checks: CompleteChecks = {}): Promise<BlobInfo> => {
    const counted = hashing(source, checks);
    // A body that fits in one part is read whole first: its hash is then known, and it goes straight to its
    // content address (no temp object, no copy).
    const first: Buffer[] = [];
    let firstBytes = 0;
    let ended = false;
    for (;;) {
      const next = await counted.next();
      if (next.done) {
        ended = true;
        break;
      }
      first.push(next.value);
      firstBytes += next.value.length;
      if (firstBytes >= partSize) break;
    }
    if (ended) {
      const info = counted.finish();
      const body = Buffer.concat(first);
      await storeAt(info.sha256, () =>
        client.send(new PutObjectCommand({ Bucket, Key: blobKey(info.sha256), Body: body, ContentLength: body.length, ContentType: 'application/octet-stream' })),
      );
      return info;
    }

    const tmp = `${prefix}tmp/${randomUUID()}`;
    async function* rest() {
      yield* first;
      for (;;) {
        const next = await counted.next();
        if (next.done) return;
        yield next.value;
      }
    }
    const upload = new Upload({
      client,
      params: { Bucket, Key: tmp, Body: Readable.from(rest()), ContentType: 'application/octet-stream' },
      partSize,
      queueSize: 2,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (err) {
      await deleteKey(tmp).catch(() => undefined);
      throw counted.failure() ?? err;
    }
    let info: BlobInfo;
    try {
      info = counted.finish();
    } catch (err) {
      await deleteKey(tmp).catch(() => undefined);
      throw err;
    }
    return settle(tmp, info);
  };

  /** Staged upload's parts as S3 lists them (paged), or a 404 when the upload is gone. */
  const allParts = async (key: string, uploadId: string): Promise<PartInfo[]> => {
    const Key = stagingKey(key);
    const parts: PartInfo[] = [];
    let marker: string | undefined;
    try {
      for (;;) {
        const out = await client.send(new ListPartsCommand({ Bucket, Key, UploadId: uploadId, PartNumberMarker: marker }));
        for (const p of out.Parts ?? []) parts.push({ partNumber: p.PartNumber ?? 0, etag: bareEtag(p.ETag ?? ''), size: p.Size ?? 0 });
        if (!out.IsTruncated || !out.NextPartNumberMarker) break;
        marker = String(out.NextPartNumberMarker);
      }
    } catch (err) {
      if (isMissing(err)) throw uploadGone();
      throw err;
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  };

  return {
    client,
    bucket: Bucket,
    prefix,
    put,

    async get(sha256, range) {
      try {
        const out = await client.send(
          new GetObjectCommand({ Bucket, Key: blobKey(sha256), Range: range ? `bytes=${range.start}-${range.end}` : undefined }),
        );
        return out.Body as Readable;
      } catch (err) {
        if (isMissing(err)) throw notFound('The content of this file is missing from the blob store.');
        throw err;
      }
    },

    async exists(sha256) {
      return (await head(blobKey(sha256))) !== null;
    },

    /**
     * With `olderThan`: the blob is kept when it, or its touch marker (re-written by every upload that found
     * this content already stored), is at least that young. S3 has no conditional delete that Swift or Ceph
     * honour, so a race remains between these HEADs and the DELETE: an identical upload that finds the blob in
     * exactly those milliseconds loses it. It is narrow (the blob must already be past the grace period and
     * unreferenced, and the upload must dedup onto it at that instant); `dreamlake gc` is an operator's command
     * and the grace period keeps every upload that started before the collector looked.
     */
    async delete(sha256, options = {}) {
      const Key = blobKey(sha256);
      const blob = await head(Key);
      if (!blob) return false;
      if (options.olderThan) {
        const touched = await head(touchKey(sha256));
        const youngest = Math.max(blob.modifiedAt.getTime(), touched?.modifiedAt.getTime() ?? 0);
        if (youngest >= options.olderThan.getTime()) return false;
      }
      await deleteKey(Key);
      await deleteKey(touchKey(sha256)).catch(() => undefined);
      return true;
    },

    async *list(): AsyncIterable<BlobEntry> {
      const Prefix = `${prefix}blobs/`;
      let ContinuationToken: string | undefined;
      do {
        const out = await client.send(new ListObjectsV2Command({ Bucket, Prefix, ContinuationToken }));
        for (const o of out.Contents ?? []) {
          const sha256 = (o.Key ?? '').slice(Prefix.length);
          if (isSha256Hex(sha256)) yield { sha256, size: o.Size ?? 0, modifiedAt: o.LastModified ?? new Date(0) };
        }
        ContinuationToken = out.IsTruncated ? out.NextContinuationToken : undefined;
      } while (ContinuationToken);
    },

    /**
     * Aborts the multipart uploads of `put`s cut short (under `tmp/`), deletes their temp objects and the
     * assembled objects a crash left between CompleteMultipartUpload and the copy (under `staging/`), all
     * older than `olderThan`. Clients' staged multipart uploads are not touched: they expire through their
     * owner (the upload routes abort them after the configured expiry).
     */
    async sweep(olderThan) {
      let removed = 0;
      const cutoff = olderThan.getTime();
      let KeyMarker: string | undefined;
      let UploadIdMarker: string | undefined;
      do {
        const out = await client.send(new ListMultipartUploadsCommand({ Bucket, Prefix: `${prefix}tmp/`, KeyMarker, UploadIdMarker }));
        for (const u of out.Uploads ?? []) {
          if (u.Key && u.UploadId && (u.Initiated?.getTime() ?? 0) < cutoff) {
            await client.send(new AbortMultipartUploadCommand({ Bucket, Key: u.Key, UploadId: u.UploadId })).catch(ignoreMissing);
            removed++;
          }
        }
        KeyMarker = out.IsTruncated ? out.NextKeyMarker : undefined;
        UploadIdMarker = out.IsTruncated ? out.NextUploadIdMarker : undefined;
      } while (KeyMarker);
      for (const Prefix of [`${prefix}tmp/`, `${prefix}staging/`]) {
        let ContinuationToken: string | undefined;
        do {
          const out = await client.send(new ListObjectsV2Command({ Bucket, Prefix, ContinuationToken }));
          for (const o of out.Contents ?? []) {
            if (o.Key && (o.LastModified?.getTime() ?? 0) < cutoff) {
              await deleteKey(o.Key);
              removed++;
            }
          }
          ContinuationToken = out.IsTruncated ? out.NextContinuationToken : undefined;
        } while (ContinuationToken);
      }
      return removed;
    },

    async createMultipart(key, contentType) {
      const out = await client.send(
        new CreateMultipartUploadCommand({ Bucket, Key: stagingKey(key), ContentType: contentType || 'application/octet-stream' }),
      );
      if (!out.UploadId) throw new Error('The S3 server answered no UploadId.');
      return out.UploadId;
    },

    async presignPart(key, uploadId, partNumber, expiresInSeconds) {
      checkPartNumber(partNumber);
      return getSignedUrl(client, new UploadPartCommand({ Bucket, Key: stagingKey(key), UploadId: uploadId, PartNumber: partNumber }), {
        expiresIn: expiresInSeconds,
      });
    },

    // Parts the server receives itself are small (one part): read whole, so S3 gets its Content-Length.
    async putPart(key, uploadId, partNumber, source, checks = {}) {
      checkPartNumber(partNumber);
      const body = await readAll(source, checks.maxBytes ?? 5 * GiB);
      if (checks.expectedSize !== undefined && body.length !== checks.expectedSize) {
        throw badRequest(`Received ${body.length} bytes but Content-Length announced ${checks.expectedSize}.`, 'size_mismatch');
      }
      try {
        const out = await client.send(
          new UploadPartCommand({ Bucket, Key: stagingKey(key), UploadId: uploadId, PartNumber: partNumber, Body: body, ContentLength: body.length }),
        );
        return { partNumber, etag: bareEtag(out.ETag ?? ''), size: body.length };
      } catch (err) {
        if (isMissing(err)) throw uploadGone();
        throw err;
      }
    },

    listParts: allParts,

    /**
     * The parts named by the client are checked against ListParts first (unknown part, wrong ETag, size and
     * limit: a 400/413 that leaves the staged upload as it was). Then S3 assembles them, and the assembled
     * object is read back once, streaming, to hash it: a sha256 that does not match is a 400 and the assembled
     * object is deleted (on S3 the staged upload is then consumed: it cannot be completed again).
     */
    async completeMultipart(key, uploadId, parts, checks = {}) {
      const Key = stagingKey(key);
      const wanted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
      for (let i = 1; i < wanted.length; i++) {
        if (wanted[i].partNumber === wanted[i - 1].partNumber) throw badRequest(`Part ${wanted[i].partNumber} is named twice.`, 'invalid_part');
      }
      if (!wanted.length) throw badRequest('No parts to assemble.', 'invalid_part');
      const stored = new Map((await allParts(key, uploadId)).map((p) => [p.partNumber, p]));
      let size = 0;
      for (const p of wanted) {
        const have = stored.get(p.partNumber);
        if (!have || have.etag !== bareEtag(p.etag)) throw badRequest(`Part ${p.partNumber} was not received with ETag ${p.etag}.`, 'invalid_part');
        size += have.size;
      }
      if (checks.maxBytes !== undefined && size > checks.maxBytes) throw payloadTooLarge(`The file is larger than the limit of ${checks.maxBytes} bytes.`);
      if (checks.expectedSize !== undefined && size !== checks.expectedSize) {
        throw badRequest(`The parts hold ${size} bytes, not the announced ${checks.expectedSize}.`, 'size_mismatch');
      }
      try {
        await client.send(
          new CompleteMultipartUploadCommand({
            Bucket,
            Key,
            UploadId: uploadId,
            MultipartUpload: { Parts: wanted.map((p) => ({ PartNumber: p.partNumber, ETag: `"${bareEtag(p.etag)}"` })) },
          }),
        );
      } catch (err) {
        if (isMissing(err)) throw uploadGone();
        const name = (err as { name?: string }).name ?? '';
        if (['InvalidPart', 'InvalidPartOrder', 'EntityTooSmall', 'MalformedXML'].includes(name)) {
          throw badRequest(`The object store refused the parts: ${name}${name === 'EntityTooSmall' ? ' (every part but the last must be at least 5 MiB)' : ''}.`, 'invalid_part');
        }
        throw err;
      }
      let info: BlobInfo;
      try {
        const out = await client.send(new GetObjectCommand({ Bucket, Key }));
        const counted = hashing(out.Body as Readable, {});
        for (;;) if ((await counted.next()).done) break;
        info = counted.finish();
        verifyContent(info, checks);
      } catch (err) {
        await deleteKey(Key).catch(() => undefined);
        throw err;
      }
      return settle(Key, info);
    },

    async abortMultipart(key, uploadId) {
      await client.send(new AbortMultipartUploadCommand({ Bucket, Key: stagingKey(key), UploadId: uploadId })).catch(ignoreMissing);
    },

    async presignGet(sha256, { filename, contentType, expiresInSeconds }) {
      return getSignedUrl(
        client,
        new GetObjectCommand({
          Bucket,
          Key: blobKey(sha256),
          ResponseContentDisposition: contentDisposition(filename),
          ResponseContentType: contentType,
        }),
        { expiresIn: expiresInSeconds },
      );
    },
  };
}

/**
 * Iterates `source` while hashing and counting; the size limit is enforced as bytes arrive, a broken source
 * becomes a 400 `upload_interrupted`. `finish()` runs the remaining checks and answers the digest.
 */
function hashing(source: AsyncIterable<Uint8Array>, checks: CompleteChecks) {
  const hash = createHash('sha256');
  const collect = collectingEvery();
  const it = source[Symbol.asyncIterator]();
  let size = 0;
  let failed: AppError | undefined;
  return {
    async next(): Promise<IteratorResult<Buffer>> {
      let next: IteratorResult<Uint8Array>;
      try {
        next = await it.next();
      } catch {
        throw (failed = badRequest('The upload was interrupted before the end of the body.', 'upload_interrupted'));
      }
      if (next.done) return { done: true, value: undefined };
      const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value.buffer, next.value.byteOffset, next.value.length);
      size += chunk.length;
      if (checks.maxBytes !== undefined && size > checks.maxBytes) {
        throw (failed = payloadTooLarge(`The file is larger than the limit of ${checks.maxBytes} bytes.`));
      }
      hash.update(chunk);
      collect(chunk.length);
      return { done: false, value: chunk };
    },
    failure: () => failed,
    finish(): BlobInfo {
      const info = { sha256: hash.digest('hex'), size };
      verifyContent(info, checks);
      return info;
    },
  };
}

async function readAll(source: AsyncIterable<Uint8Array>, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const counted = hashing(source, { maxBytes });
  for (;;) {
    const next = await counted.next();
    if (next.done) return Buffer.concat(chunks);
    chunks.push(next.value);
  }
}

/** `attachment` with the file name, as RFC 6266 wants it: an ASCII fallback and the UTF-8 name. */
export function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}

function checkPartNumber(n: number) {
  if (!Number.isInteger(n) || n < 1 || n > MAX_PART_NUMBER) throw badRequest(`partNumber must be an integer from 1 to ${MAX_PART_NUMBER}.`, 'invalid_part');
}

const uploadGone = () => notFound('The staged upload does not exist (completed, aborted or expired).');

/** ETags as S3 and clients spell them (quoted or not, any case), reduced to the bare lower-case value. */
function bareEtag(etag: string): string {
  return etag.trim().replace(/^W\//, '').replace(/^"|"$/g, '').toLowerCase();
}

function isMissing(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } } | null;
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.name === 'NoSuchUpload' || e?.$metadata?.httpStatusCode === 404;
}

function ignoreMissing(err: unknown): void {
  if (!isMissing(err)) throw err;
}
