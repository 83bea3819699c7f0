import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { badRequest, payloadTooLarge } from '../errors.js';
import type { PutChecks } from './store.js';

/**
 * Copies `source` into `fh` while digesting it (sha256 for blobs, md5 for part ETags); enforces the size limit as
 * bytes arrive and the announced size at the end. `what` names the thing in the 413 message ("file", "part").
 */
export async function copyDigesting(
  source: AsyncIterable<Uint8Array>,
  fh: FileHandle,
  algorithm: 'sha256' | 'md5',
  checks: PutChecks,
  what: string,
): Promise<{ digest: string; size: number }> {
  const hash = createHash(algorithm);
  let size = 0;
  // Iterated by hand so that a failed check does not destroy the request stream: the error response can
  // still reach the client before the connection closes.
  const chunks = source[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<Uint8Array>;
    try {
      next = await chunks.next();
    } catch {
      throw badRequest('The upload was interrupted before the end of the body.', 'upload_interrupted');
    }
    if (next.done) break;
    const chunk = next.value;
    size += chunk.length;
    if (checks.maxBytes !== undefined && size > checks.maxBytes) {
      throw payloadTooLarge(`The ${what} is larger than the limit of ${checks.maxBytes} bytes.`);
    }
    hash.update(chunk);
    await writeAll(fh, chunk);
  }
  if (checks.expectedSize !== undefined && size !== checks.expectedSize) {
    throw badRequest(`Received ${size} bytes but Content-Length announced ${checks.expectedSize}.`, 'size_mismatch');
  }
  return { digest: hash.digest('hex'), size };
}

async function writeAll(fh: FileHandle, chunk: Uint8Array) {
  for (let offset = 0; offset < chunk.length; ) {
    const { bytesWritten } = await fh.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}
