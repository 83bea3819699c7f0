import { createHash } from 'node:crypto';
import { AppError, badRequest, notFound, payloadTooLarge } from '../errors.js';
import { collectingEvery } from '../memory.js';
import { verifyContent, type BlobInfo, type CompleteChecks } from './store.js';

export const MAX_PART_NUMBER = 10_000;

/**
 * Iterates `source` while hashing and counting; the size limit is enforced as bytes arrive, a broken source
 * becomes a 400 `upload_interrupted`. `finish()` runs the remaining checks and answers the digest.
 */
export function hashing(source: AsyncIterable<Uint8Array>, checks: CompleteChecks) {
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

export async function readAll(source: AsyncIterable<Uint8Array>, maxBytes: number): Promise<Buffer> {
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

export function checkPartNumber(n: number) {
  if (!Number.isInteger(n) || n < 1 || n > MAX_PART_NUMBER) throw badRequest(`partNumber must be an integer from 1 to ${MAX_PART_NUMBER}.`, 'invalid_part');
}

export const uploadGone = () => notFound('The staged upload does not exist (completed, aborted or expired).');

/** ETags as S3 and clients spell them (quoted or not, any case), reduced to the bare lower-case value. */
export function bareEtag(etag: string): string {
  return etag.trim().replace(/^W\//, '').replace(/^"|"$/g, '').toLowerCase();
}

export function isMissing(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } } | null;
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.name === 'NoSuchUpload' || e?.$metadata?.httpStatusCode === 404;
}

export function ignoreMissing(err: unknown): void {
  if (!isMissing(err)) throw err;
}
