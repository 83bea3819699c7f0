import type { Readable } from 'node:stream';

/**
 * Content-addressed storage of file bytes. Blobs are named by the hex sha256 of their content, so identical
 * uploads are stored once and a blob never changes once written. Kept narrow so that an S3 implementation
 * can follow without touching the routes.
 */
export interface BlobStore {
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

const SHA256_HEX = /^[0-9a-f]{64}$/;

export function isSha256Hex(value: string): boolean {
  return SHA256_HEX.test(value);
}
