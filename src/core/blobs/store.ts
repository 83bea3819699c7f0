import type { Readable } from 'node:stream';
import { AppError, badRequest } from '../errors.js';

/**
 * Content-addressed storage of file bytes. Blobs are named by the hex sha256 of their content, so identical
 * uploads are stored once and a blob never changes once written. Kept narrow so that an S3 implementation
 * can follow without touching the routes.
 */
export interface BlobStore extends MultipartBlobs {
  /**
   * Streams `source` into the store, hashing while writing. Nothing becomes visible unless the whole stream
   * arrived and every check passed; on any failure the partial data is discarded and the error rethrown.
   */
  put(source: AsyncIterable<Uint8Array>, checks?: PutChecks): Promise<BlobInfo>;
  /** The bytes of a blob, or of the inclusive `range` of it. Throws a 404 AppError when the blob is missing. */
  get(sha256: string, range?: ByteRange): Promise<Readable>;
  exists(sha256: string): Promise<boolean>;
  /**
   * Removes a blob. With `olderThan`, a blob written (or re-written by an identical upload) at or after that
   * instant is kept, so a collector cannot remove bytes an upload has just put. Answers whether it removed it.
   */
  delete(sha256: string, options?: { olderThan?: Date }): Promise<boolean>;
  /** Every stored blob, in no particular order (for the garbage collector). */
  list(): AsyncIterable<BlobEntry>;
  /** Clears what interrupted uploads left behind before `olderThan`; answers how many leftovers it removed. */
  sweep(olderThan: Date): Promise<number>;
}

export interface PutChecks {
  /** Bytes the sender announced (Content-Length): any other count fails the put (400). */
  expectedSize?: number;
  /** Hex sha256 the sender announced: any other digest fails the put (400). */
  expectedSha256?: string;
  /** Largest accepted size in bytes: a longer stream fails the put (413) as soon as it goes past it. */
  maxBytes?: number;
}

/** What completing a multipart upload checks: the original clients announce only a prefix of the sha256. */
export type CompleteChecks = PutChecks & {
  expectedSha256Prefix?: string;
  /**
   * Runs once the content is stored under its sha256 and before the staged upload is cleared away (the caller
   * records the completion there): a crash or a failure before it returns leaves the upload completable again.
   */
  onStored?: (info: BlobInfo) => Promise<void>;
};

export interface BlobInfo {
  sha256: string;
  size: number;
}

export interface BlobEntry extends BlobInfo {
  modifiedAt: Date;
}

/** Inclusive byte offsets, as in an HTTP Range. */
export interface ByteRange {
  start: number;
  end: number;
}

/** The announced size and digest against what the store computed: 400 on any difference (every store's one rule). */
export function verifyContent(info: BlobInfo, checks: CompleteChecks): void {
  if (checks.expectedSize !== undefined && info.size !== checks.expectedSize) {
    throw badRequest(`Received ${info.size} bytes but ${checks.expectedSize} were announced.`, 'size_mismatch');
  }
  if (checks.expectedSha256 !== undefined && checks.expectedSha256 !== info.sha256) {
    throw new AppError(400, 'checksum_mismatch', `The content's sha256 is ${info.sha256}, not the announced ${checks.expectedSha256}.`);
  }
  if (checks.expectedSha256Prefix !== undefined && !info.sha256.startsWith(checks.expectedSha256Prefix.toLowerCase())) {
    throw new AppError(400, 'checksum_mismatch', `The content's sha256 is ${info.sha256}, which does not start with the announced ${checks.expectedSha256Prefix}.`);
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

export function isSha256Hex(value: string): boolean {
  return SHA256_HEX.test(value);
}

/**
 * Staged multipart uploads (the original clients' BSS protocol, S3-style). `key` is always made by the server
 * (never user text); `uploadId` is the store's own ID for the staged upload (S3's UploadId; a random ID on the
 * filesystem). Parts may arrive in any order and be re-sent; nothing is content-addressed until completeMultipart.
 */
export interface MultipartBlobs {
  /**
   * Starts a staged upload and answers the store's upload ID. `partSize` is the size clients were told to use
   * (part n then starts at (n-1)·partSize): a store may lay parts out by it, but must accept any other sizes.
   */
  createMultipart(key: string, contentType: string, options?: { partSize?: number }): Promise<string>;
  /**
   * Where a client sends parts `partNumbers` itself: S3 presigned UploadPart URLs, by part number. `null` when the server
   * receives the parts (filesystem): it then signs its own part URLs and calls putPart.
   */
  presignParts(key: string, uploadId: string, partNumbers: number[], expiresInSeconds: number): Promise<Map<number, string> | null>;
  /** Stores one part received by the server (a re-sent part replaces the earlier one); answers its ETag and size. */
  putPart(key: string, uploadId: string, partNumber: number, source: AsyncIterable<Uint8Array>, checks?: PutChecks): Promise<PartInfo>;
  /** The parts received so far, by ascending number. Throws a 404 AppError when the staged upload is gone. */
  listParts(key: string, uploadId: string): Promise<PartInfo[]>;
  /**
   * Assembles `parts` in order into a content-addressed blob, hashing as it streams (never the whole file in
   * memory). A failed check (size, sha256 prefix, unknown part or ETag) is a 400 and stores nothing; the staged
   * upload then stays as it was (it may be completed again or aborted). On success the staged parts are removed.
   */
  completeMultipart(key: string, uploadId: string, parts: PartRef[], checks?: CompleteChecks): Promise<BlobInfo>;
  /** Discards a staged upload and its parts; a missing one is not an error. */
  abortMultipart(key: string, uploadId: string): Promise<void>;
  /**
   * A URL that serves the blob without the server (S3 presigned GetObject with the file name and content type
   * set), or `null` when the server serves blobs itself (filesystem: it then signs its own download URLs).
   */
  presignGet(sha256: string, options: { filename: string; contentType: string; expiresInSeconds: number }): Promise<string | null>;
}

export interface PartRef {
  partNumber: number;
  etag: string;
}

export interface PartInfo extends PartRef {
  size: number;
}
