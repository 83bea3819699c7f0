import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
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
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { badRequest, notFound, payloadTooLarge } from '../errors.js';
import { collecting, collectingEvery } from '../memory.js';
import { turnsByKey } from '../turns.js';
import { bareEtag, checkPartNumber, contentDisposition, hashing, ignoreMissing, isMissing, readAll, uploadGone } from './s3-helpers.js';
import { presignUploadParts } from './s3-presign-parts.js';
import { readRanges, type RangedReadOptions } from './s3-read.js';
import { isSha256Hex, verifyContent, type BlobEntry, type BlobInfo, type BlobStore, type CompleteChecks, type PartInfo, type PartRef } from './store.js';

export { contentDisposition } from './s3-helpers.js';

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
  /** Part size of the store's own multipart writes (`put`); at least 5 MiB. Default 8 MiB. */
  partSize?: number;
  /** How `completeMultipart` reads the assembled object back to hash it. Default 4 ranged GETs of 8 MiB. */
  verifyRead?: RangedReadOptions;
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const STAGING_KEY = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*){0,8}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Where assembled objects live, relative to the prefix (what a pointer names). */
const DATA_LOCATION = /^data\/(mp|put)\/[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*){0,10}$/;
const EMPTY = new Uint8Array(0);

/**
 * Blobs in an S3 bucket (AWS, or any S3 API: Swift's s3api, Ceph, MinIO…). Keys under the configured prefix:
 * - `blobs/<sha256>`: the content address. Either the bytes themselves (small `put`s, and every blob written
 *   before pointers existed), or a pointer: an empty object whose user metadata names where the verified bytes
 *   are (`location`, a `data/…` key) and their `size`. Never rewritten once there (but see `adopt`).
 * - `data/mp/<key>/<uuid>`: clients' multipart uploads (BSS), and the object CompleteMultipartUpload assembles
 *   there; `data/put/<uuid>`: a big `put` while it streams in. Such an object is only ever served through a
 *   pointer, which is written after its SHA-256 and size were verified.
 * - `pending/<…>` (the `data/…` location without `data/`): a marker written before an object at that location
 *   may exist unreferenced (before CompleteMultipartUpload, before a `put` streams, before a pointer blob is
 *   deleted), with the sha256 as metadata once known; removed once the object is referenced or deleted. `sweep`
 *   settles the markers a crash left: it deletes their object unless the pointer of their sha256 names it.
 * - `touch/<sha256>`: an empty marker re-written whenever an upload finds its content already stored (a blob's
 *   LastModified cannot be refreshed without rewriting it); its age counts as the blob's age for `delete`;
 * - `tmp/`, `staging/`: earlier versions' uploads; `sweep` still clears their leftovers.
 *
 * Why pointers: CompleteMultipartUpload cannot name the object by a hash it does not know yet, and a server-side
 * copy into `blobs/<sha256>` cost as much as reading it (Swift, 5 GiB: verify 23 s + copy 24 s + delete, 58 s in
 * all, against the original CLI's 60 s timeout for `complete`). A pointer costs one small PUT; `get`, `exists`,
 * `presignGet`, `list` and `delete` follow it (a HEAD first: a Range on the empty pointer would be a 416).
 *
 * Nothing is ever held whole in memory: `put` buffers at most a couple of parts, `completeMultipart` hashes the
 * assembled object as a few ranged GETs bring it back in order.
 */
export function createS3BlobStore(options: S3StoreOptions): BlobStore & { client: S3Client; bucket: string; prefix: string } {
  // The pinned SDK release supports Node 20; its notice that later releases will not is for whoever upgrades the
  // dependency, not for an operator reading the server's log at every start (set the variable to see it).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const clientConfig = {
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
  } as const;
  const client = new S3Client(clientConfig);
  // Bytes relayed to HTTP clients (`get`) hold their S3 connection for as long as the client takes to read them,
  // up to [server] stall_timeout when it stops. On the SDK's shared pool (50 sockets) 50 stalled downloads
  // blocked every other S3 request of the server, uploads included: they get their own pool, one connection per
  // download in progress, as many as the server's own connections.
  const relayClient = new S3Client({ ...clientConfig, requestHandler: { httpAgent: { maxSockets: Infinity }, httpsAgent: { maxSockets: Infinity } } });
  const Bucket = options.bucket;
  const prefix = options.prefix;
  const partSize = Math.max(5 * MiB, options.partSize ?? 8 * MiB);
  const verifyRead = options.verifyRead ?? { width: 4, rangeSize: 8 * MiB };

  const blobKey = (sha256: string) => {
    if (!isSha256Hex(sha256)) throw badRequest('Not a sha256 digest.');
    return `${prefix}blobs/${sha256}`;
  };
  const touchKey = (sha256: string) => `${prefix}touch/${sha256}`;
  const markerKey = (location: string) => `${prefix}pending/${location.slice('data/'.length)}`;
  /** A client's staged upload: the store's upload ID is `<uuid>.<S3 UploadId>`, the uuid making its object's key unique. */
  const staged = (key: string, uploadId: string) => {
    if (!STAGING_KEY.test(key) || key.length > 512) throw badRequest('Not a staging key.');
    const dot = uploadId.indexOf('.');
    const nonce = uploadId.slice(0, Math.max(0, dot));
    if (!UUID.test(nonce)) throw uploadGone();
    const location = `data/mp/${key}/${nonce}`;
    return { location, Key: prefix + location, UploadId: uploadId.slice(dot + 1) };
  };

  /** HEAD: size, LastModified and user metadata, or null when the object is missing. */
  const head = async (Key: string) => {
    try {
      const out = await client.send(new HeadObjectCommand({ Bucket, Key }));
      return { size: out.ContentLength ?? 0, modifiedAt: out.LastModified ?? new Date(0), metadata: out.Metadata ?? {} };
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  };

  /** Where blob `sha256`'s bytes are: its own key, or the location its pointer names; null when it is missing. */
  const resolve = async (sha256: string) => {
    const Key = blobKey(sha256);
    const found = await head(Key);
    if (!found) return null;
    const location = found.metadata.location;
    if (found.size === 0 && location !== undefined && DATA_LOCATION.test(location)) {
      return { Key: prefix + location, location, size: Number(found.metadata.size), modifiedAt: found.modifiedAt };
    }
    return { Key, location: undefined, size: found.size, modifiedAt: found.modifiedAt };
  };

  const deleteKey = (Key: string) => client.send(new DeleteObjectCommand({ Bucket, Key }));
  const putEmpty = (Key: string, Metadata?: Record<string, string>) =>
    client.send(new PutObjectCommand({ Bucket, Key, Body: EMPTY, ContentLength: 0, ContentType: 'application/octet-stream', Metadata }));
  const mark = (location: string, sha256?: string) => putEmpty(markerKey(location), sha256 ? { sha256 } : undefined);
  const discard = async (location: string) => {
    await deleteKey(prefix + location).catch(() => undefined);
    await deleteKey(markerKey(location)).catch(() => undefined);
  };

  /**
   * Makes the verified bytes at `location` the blob `info.sha256`: a pointer to them, or, when the content is
   * already stored (dedup), nothing but a fresher touch marker, and the new object is deleted.
   * S3 (and Swift) offer no create-if-absent that every server honours, so two uploads of the same content that
   * finish together may both write the pointer: each reads it back, and the one it does not name deletes its own
   * object (both hold the same verified bytes; a reader that followed the overwritten pointer retries once). Should
   * the other write land only after this read-back (two servers, both within a request's time of each other), this
   * object is left unreferenced: wasted space, never wrong bytes. Within one server adopts of the same content take
   * turns, so there the second always finds the first's pointer.
   */
  const adoptTurns = turnsByKey();
  const adopt = (location: string, info: BlobInfo): Promise<BlobInfo> => adoptTurns(info.sha256, () => adoptNow(location, info));
  const adoptNow = async (location: string, info: BlobInfo): Promise<BlobInfo> => {
    await mark(location, info.sha256);
    const stored = await resolve(info.sha256);
    if (!stored) {
      await putEmpty(blobKey(info.sha256), { location, size: String(info.size) });
      if ((await resolve(info.sha256))?.location !== location) await deleteKey(prefix + location);
    } else if (stored.location !== location) {
      await deleteKey(prefix + location);
      await putEmpty(touchKey(info.sha256));
    } // else: a concurrent complete of this very upload adopted it already
    await deleteKey(markerKey(location)).catch(() => undefined);
    return info;
  };

  const put = async (source: AsyncIterable<Uint8Array>, checks: CompleteChecks = {}): Promise<BlobInfo> => {
    const counted = hashing(source, checks);
    // A body that fits in one part is read whole first: its hash is then known, and it goes straight to its
    // content address as itself (no pointer).
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
      if (await head(blobKey(info.sha256))) {
        await putEmpty(touchKey(info.sha256));
      } else {
        await client.send(new PutObjectCommand({ Bucket, Key: blobKey(info.sha256), Body: body, ContentLength: body.length, ContentType: 'application/octet-stream' }));
      }
      return info;
    }

    const location = `data/put/${randomUUID()}`;
    await mark(location);
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
      params: { Bucket, Key: prefix + location, Body: Readable.from(rest()), ContentType: 'application/octet-stream' },
      partSize,
      queueSize: 2,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (err) {
      await discard(location);
      throw counted.failure() ?? err;
    }
    let info: BlobInfo;
    try {
      info = counted.finish();
    } catch (err) {
      await discard(location);
      throw err;
    }
    return adopt(location, info);
  };

  /**
   * Staged upload's parts as S3 lists them (paged), or a 404 when the upload is gone: also once it is assembled
   * (Swift still lists a completed upload's parts, and accepts its CompleteMultipartUpload again; AWS does neither).
   */
  const allParts = async (key: string, uploadId: string): Promise<PartInfo[]> => {
    const { Key, UploadId } = staged(key, uploadId);
    if (await head(Key)) throw uploadGone();
    const parts: PartInfo[] = [];
    let marker: string | undefined;
    try {
      for (;;) {
        const out = await client.send(new ListPartsCommand({ Bucket, Key, UploadId, PartNumberMarker: marker }));
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

  /** Every object under `Prefix` (paged). */
  async function* listed(Prefix: string) {
    let ContinuationToken: string | undefined;
    do {
      const out = await client.send(new ListObjectsV2Command({ Bucket, Prefix, ContinuationToken }));
      yield* out.Contents ?? [];
      ContinuationToken = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  /** The SHA-256 and size of the object at `Key`, read back as ranged GETs in parallel and hashed in order. */
  const hashObject = async (Key: string, size: number): Promise<BlobInfo> => {
    const hash = createHash('sha256');
    const collect = collectingEvery();
    for await (const chunk of readRanges(client, Bucket, Key, size, verifyRead)) {
      hash.update(chunk);
      collect(chunk.length);
    }
    return { sha256: hash.digest('hex'), size };
  };

  /**
   * Swift accepts CompleteMultipartUpload again for a completed upload, even with other parts, and rewrites the
   * object: two completes of one upload at once could change the bytes behind a verified pointer. They run one
   * after the other here (the second then finds the object assembled, and verifies it again); the upload routes
   * answer a completed upload from its row, and take turns across servers too (lake/original/uploads.ts).
   */
  const oneAtATime = turnsByKey();

  const complete = async (key: string, uploadId: string, parts: PartRef[], checks: CompleteChecks): Promise<BlobInfo> => {
    const { location, Key, UploadId } = staged(key, uploadId);
    const wanted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
    for (let i = 1; i < wanted.length; i++) {
      if (wanted[i].partNumber === wanted[i - 1].partNumber) throw badRequest(`Part ${wanted[i].partNumber} is named twice.`, 'invalid_part');
    }
    if (!wanted.length) throw badRequest('No parts to assemble.', 'invalid_part');
    let size = 0;
    let assembled = false;
    try {
      const stored = new Map((await allParts(key, uploadId)).map((p) => [p.partNumber, p]));
      for (const p of wanted) {
        const have = stored.get(p.partNumber);
        if (!have || have.etag !== bareEtag(p.etag)) throw badRequest(`Part ${p.partNumber} was not received with ETag ${p.etag}.`, 'invalid_part');
        size += have.size;
      }
    } catch (err) {
      const found = (err as { status?: number }).status === 404 ? await head(Key) : null;
      if (!found) throw err;
      size = found.size;
      assembled = true;
    }
    if (checks.maxBytes !== undefined && size > checks.maxBytes) throw payloadTooLarge(`The file is larger than the limit of ${checks.maxBytes} bytes.`);
    if (checks.expectedSize !== undefined && size !== checks.expectedSize) {
      throw badRequest(`The parts hold ${size} bytes, not the announced ${checks.expectedSize}.`, 'size_mismatch');
    }
    if (!assembled) {
      await mark(location);
      try {
        await client.send(
          new CompleteMultipartUploadCommand({
            Bucket,
            Key,
            UploadId,
            MultipartUpload: { Parts: wanted.map((p) => ({ PartNumber: p.partNumber, ETag: `"${bareEtag(p.etag)}"` })) },
          }),
        );
      } catch (err) {
        // (Any other failure may have assembled it after all: the marker stays, for a retry or the sweep.)
        if (isMissing(err)) throw uploadGone();
        const name = (err as { name?: string }).name ?? '';
        if (['InvalidPart', 'InvalidPartOrder', 'EntityTooSmall', 'MalformedXML'].includes(name)) {
          await deleteKey(markerKey(location)).catch(() => undefined);
          throw badRequest(`The object store refused the parts: ${name}${name === 'EntityTooSmall' ? ' (every part but the last must be at least 5 MiB)' : ''}.`, 'invalid_part');
        }
        throw err;
      }
    }
    // A failed read leaves the assembled object and its marker: the client's retry verifies it again (above).
    const info = await hashObject(Key, size);
    try {
      verifyContent(info, checks);
    } catch (err) {
      // Unless a concurrent complete of this same upload (with other checks) made it its blob already.
      if ((await resolve(info.sha256))?.location !== location) await discard(location);
      throw err;
    }
    const stored = await adopt(location, info);
    await checks.onStored?.(stored);
    return stored;
  };

  return {
    client,
    bucket: Bucket,
    prefix,
    put,

    async get(sha256, range) {
      const Range = range ? `bytes=${range.start}-${range.end}` : undefined;
      for (let attempt = 0; ; attempt++) {
        const at = await resolve(sha256);
        if (!at) throw notFound('The content of this file is missing from the blob store.');
        try {
          const out = await relayClient.send(new GetObjectCommand({ Bucket, Key: at.Key, Range }));
          // The SDK reads each chunk into a fresh Buffer (the filesystem store's streams reuse theirs).
          return collecting(out.Body as Readable);
        } catch (err) {
          // A pointer overwritten by a concurrent identical upload (see adopt) names other bytes now: follow it again.
          if (isMissing(err) && at.location && attempt === 0) continue;
          if (isMissing(err)) throw notFound('The content of this file is missing from the blob store.');
          throw err;
        }
      }
    },

    async exists(sha256) {
      return (await resolve(sha256)) !== null;
    },

    /**
     * With `olderThan`: the blob is kept when it (the pointer, for a pointer blob), or its touch marker (re-written
     * by every upload that found this content already stored), is at least that young. S3 has no conditional
     * delete that Swift or Ceph honour, so a race remains between these HEADs and the DELETE: an identical upload
     * that finds the blob in exactly those milliseconds loses it. It is narrow (the blob must already be past the
     * grace period and unreferenced, and the upload must dedup onto it at that instant); `dreamlake gc` is an
     * operator's command and the grace period keeps every upload that started before the collector looked.
     * A pointer blob's object is marked first, so that a crash between the two deletes leaves it to `sweep`.
     */
    async delete(sha256, options = {}) {
      const at = await resolve(sha256);
      if (!at) return false;
      if (options.olderThan) {
        const touched = await head(touchKey(sha256));
        const youngest = Math.max(at.modifiedAt.getTime(), touched?.modifiedAt.getTime() ?? 0);
        if (youngest >= options.olderThan.getTime()) return false;
      }
      if (at.location) await mark(at.location, sha256);
      await deleteKey(blobKey(sha256));
      if (at.location) await discard(at.location);
      await deleteKey(touchKey(sha256)).catch(() => undefined);
      return true;
    },

    /** Pointer blobs are listed with the size of their bytes (a HEAD each), and the age of the pointer. */
    async *list(): AsyncIterable<BlobEntry> {
      const Prefix = `${prefix}blobs/`;
      for await (const o of listed(Prefix)) {
        const sha256 = (o.Key ?? '').slice(Prefix.length);
        if (!isSha256Hex(sha256)) continue;
        let size = o.Size ?? 0;
        if (size === 0) {
          const at = await resolve(sha256);
          if (!at) continue;
          size = at.size;
        }
        yield { sha256, size, modifiedAt: o.LastModified ?? new Date(0) };
      }
    },

    /**
     * Settles the markers older than `olderThan` (see the key layout above): the object a marker names is kept
     * only when the pointer of the marker's sha256 names it. Also aborts the multipart uploads of `put`s cut short
     * (`data/put/`, and earlier versions' `tmp/`) and deletes earlier versions' leftover objects under `tmp/` and
     * `staging/`. Clients' staged multipart uploads are not touched: they expire through their owner (the upload
     * routes abort them after the configured expiry). A complete or put that takes longer than the grace period
     * (minutes at most, against the hour the server's own sweep uses) may be cut short by it, never made to serve
     * wrong bytes.
     */
    async sweep(olderThan) {
      let removed = 0;
      const cutoff = olderThan.getTime();
      for (const Prefix of [`${prefix}tmp/`, `${prefix}data/put/`]) {
        let KeyMarker: string | undefined;
        let UploadIdMarker: string | undefined;
        do {
          const out = await client.send(new ListMultipartUploadsCommand({ Bucket, Prefix, KeyMarker, UploadIdMarker }));
          for (const u of out.Uploads ?? []) {
            if (u.Key && u.UploadId && (u.Initiated?.getTime() ?? 0) < cutoff) {
              await client.send(new AbortMultipartUploadCommand({ Bucket, Key: u.Key, UploadId: u.UploadId })).catch(ignoreMissing);
              removed++;
            }
          }
          KeyMarker = out.IsTruncated ? out.NextKeyMarker : undefined;
          UploadIdMarker = out.IsTruncated ? out.NextUploadIdMarker : undefined;
        } while (KeyMarker);
      }
      for (const Prefix of [`${prefix}tmp/`, `${prefix}staging/`]) {
        for await (const o of listed(Prefix)) {
          if (o.Key && (o.LastModified?.getTime() ?? 0) < cutoff) {
            await deleteKey(o.Key);
            removed++;
          }
        }
      }
      const markers = `${prefix}pending/`;
      for await (const o of listed(markers)) {
        if (!o.Key || (o.LastModified?.getTime() ?? 0) >= cutoff) continue;
        const marker = await head(o.Key); // afresh: its owner may have re-written it since the listing
        if (!marker || marker.modifiedAt.getTime() >= cutoff) continue;
        const location = `data/${o.Key.slice(markers.length)}`;
        if (!DATA_LOCATION.test(location)) continue;
        const object = await head(prefix + location);
        if (object) {
          // Without a sha256 the marker was left before its object was verified (a crash, or a failed read): the
          // object's bytes say which blob could name it (rare, and the only way to be sure).
          const sha256 = marker.metadata.sha256 ?? (await hashObject(prefix + location, object.size)).sha256;
          if (!isSha256Hex(sha256) || (await resolve(sha256))?.location !== location) {
            await deleteKey(prefix + location);
            removed++;
          }
        }
        await deleteKey(o.Key);
      }
      return removed;
    },

    async createMultipart(key, contentType) {
      const nonce = randomUUID();
      const { Key } = staged(key, `${nonce}.`);
      const out = await client.send(new CreateMultipartUploadCommand({ Bucket, Key, ContentType: contentType || 'application/octet-stream' }));
      if (!out.UploadId) throw new Error('The S3 server answered no UploadId.');
      return `${nonce}.${out.UploadId}`;
    },

    async presignParts(key, uploadId, partNumbers, expiresInSeconds) {
      partNumbers.forEach(checkPartNumber);
      const { Key, UploadId } = staged(key, uploadId);
      return presignUploadParts(client, { Bucket, Key, UploadId }, partNumbers, expiresInSeconds);
    },

    // Parts the server receives itself are small (one part): read whole, so S3 gets its Content-Length.
    async putPart(key, uploadId, partNumber, source, checks = {}) {
      checkPartNumber(partNumber);
      const { Key, UploadId } = staged(key, uploadId);
      const body = await readAll(source, checks.maxBytes ?? 5 * GiB);
      if (checks.expectedSize !== undefined && body.length !== checks.expectedSize) {
        throw badRequest(`Received ${body.length} bytes but Content-Length announced ${checks.expectedSize}.`, 'size_mismatch');
      }
      try {
        const out = await client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: partNumber, Body: body, ContentLength: body.length }));
        return { partNumber, etag: bareEtag(out.ETag ?? ''), size: body.length };
      } catch (err) {
        if (isMissing(err)) throw uploadGone();
        throw err;
      }
    },

    listParts: allParts,

    /**
     * The parts named by the client are checked against ListParts first (unknown part, wrong ETag, size and
     * limit: a 400/413 that leaves the staged upload as it was). Then S3 assembles them where the upload lives,
     * and the assembled object is read back once to hash it: a sha256 or size that does not match is a 400 and the
     * object is deleted (on S3 the staged upload is then consumed: it cannot be completed again). A verified
     * object stays where it is and becomes its blob through a pointer (see adopt). A complete cut short after
     * CompleteMultipartUpload is finished by the next one: the upload is gone, its assembled object is verified.
     */
    async completeMultipart(key, uploadId, parts, checks = {}) {
      return oneAtATime(staged(key, uploadId).location, () => complete(key, uploadId, parts, checks));
    },

    async abortMultipart(key, uploadId) {
      let at: { Key: string; UploadId: string };
      try {
        at = staged(key, uploadId);
      } catch (err) {
        if ((err as { status?: number }).status !== 404) throw err;
        // An upload begun by an earlier version (a bare S3 UploadId, under staging/): it can no longer be
        // completed (its client starts over), but its parts are discarded when it expires.
        at = { Key: `${prefix}staging/${key}`, UploadId: uploadId };
      }
      await client.send(new AbortMultipartUploadCommand({ Bucket, Key: at.Key, UploadId: at.UploadId })).catch(ignoreMissing);
    },

    async presignGet(sha256, { filename, contentType, expiresInSeconds }) {
      const Key = (await resolve(sha256))?.Key ?? blobKey(sha256);
      return getSignedUrl(
        client,
        new GetObjectCommand({ Bucket, Key, ResponseContentDisposition: contentDisposition(filename), ResponseContentType: contentType }),
        { expiresIn: expiresInSeconds },
      );
    },
  };
}
