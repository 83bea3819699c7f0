import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { AppError, badRequest, payloadTooLarge } from '../errors.js';
import { collectingEvery } from '../memory.js';
import type { PutChecks } from './store.js';

/**
 * Copies `source` into `fh` (from `position` on, else at its current offset) while digesting it (sha256 for blobs,
 * md5 for part ETags); enforces the size limit as bytes arrive and the announced size at the end. `what` names
 * the thing in the 413 message ("file", "part").
 */
export async function copyDigesting(
  source: AsyncIterable<Uint8Array>,
  fh: FileHandle,
  algorithm: 'sha256' | 'md5',
  checks: PutChecks,
  what: string,
  position?: number,
): Promise<{ digest: string; size: number }> {
  const hash = createHash(algorithm);
  const collect = collectingEvery();
  let size = 0;
  // Iterated by hand so that a failed check does not destroy the request stream: the error response can
  // still reach the client before the connection closes.
  const chunks = source[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<Uint8Array>;
    try {
      next = await chunks.next();
    } catch (err) {
      if (err instanceof AppError) throw err; // the source's own verdict (e.g. staged parts that changed)
      throw badRequest('The upload was interrupted before the end of the body.', 'upload_interrupted');
    }
    if (next.done) break;
    const chunk = next.value;
    size += chunk.length;
    if (checks.maxBytes !== undefined && size > checks.maxBytes) {
      throw payloadTooLarge(`The ${what} is larger than the limit of ${checks.maxBytes} bytes.`);
    }
    hash.update(chunk);
    collect(chunk.length);
    await writeAll(fh, chunk, position === undefined ? undefined : position + size - chunk.length);
  }
  if (checks.expectedSize !== undefined && size !== checks.expectedSize) {
    throw badRequest(`Received ${size} bytes but Content-Length announced ${checks.expectedSize}.`, 'size_mismatch');
  }
  return { digest: hash.digest('hex'), size };
}

async function writeAll(fh: FileHandle, chunk: Uint8Array, position?: number) {
  for (let offset = 0; offset < chunk.length; ) {
    const { bytesWritten } = await fh.write(chunk, offset, chunk.length - offset, position === undefined ? null : position + offset);
    offset += bytesWritten;
  }
}
