import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { AppError, badRequest, payloadTooLarge } from '../errors.js';
import { collectingEvery } from '../memory.js';
import type { PutChecks } from './store.js';

/**
 * Copies `source` into `fh` (from `position` on, else at its current offset) while digesting it (sha256 for blobs,
 * md5 for part ETags). Enforces the size limit as bytes arrive and the announced size at the end. `what` names
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
  const out = batchedWriter(fh, position);
  let size = 0;
  // Iterated by hand so that a failed check does not destroy the request stream: the error response can
  // still reach the client before the connection closes.
  const chunks = source[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<Uint8Array>;
    try {
      next = await chunks.next();
    } catch (err) {
      await out.settle();
      if (err instanceof AppError) throw err; // the source's own verdict (e.g. staged parts that changed)
      throw badRequest('The upload was interrupted before the end of the body.', 'upload_interrupted');
    }
    if (next.done) break;
    const chunk = next.value;
    size += chunk.length;
    if (checks.maxBytes !== undefined && size > checks.maxBytes) {
      await out.settle();
      throw payloadTooLarge(`The ${what} is larger than the limit of ${checks.maxBytes} bytes.`);
    }
    hash.update(chunk);
    collect(chunk.length);
    await out.add(chunk);
  }
  await out.flush();
  if (checks.expectedSize !== undefined && size !== checks.expectedSize) {
    throw badRequest(`Received ${size} bytes but Content-Length announced ${checks.expectedSize}.`, 'size_mismatch');
  }
  return { digest: hash.digest('hex'), size };
}

const BATCH = 512 * 1024;

/**
 * Writes chunks as they come, copied into one of two 512 KiB buffers: one is written while the other fills. A
 * socket delivers 16–64 KiB at a time, and a write per chunk costs the event loop (and the kernel, with several
 * parts writing into one staging file) several times more than the bytes; copying (instead of holding the chunks
 * in a list) lets each chunk die young, so the collector has nothing to promote. `position` undefined: at the
 * file's current offset.
 */
function batchedWriter(fh: FileHandle, position?: number) {
  const buffers = [takeBuffer(), takeBuffer()];
  let current = 0;
  let filled = 0;
  let offset = position;
  let inFlight: Promise<void> = Promise.resolve();
  const start = async () => {
    await inFlight; // the other buffer is free again once its write is done
    const buffer = buffers[current].subarray(0, filled);
    const at = offset;
    if (offset !== undefined) offset += filled;
    current ^= 1;
    filled = 0;
    inFlight = writeAll(fh, buffer, at);
    inFlight.catch(() => undefined); // seen by the next add/flush/settle, not an unhandled rejection meanwhile
  };
  return {
    async add(chunk: Uint8Array) {
      for (let from = 0; from < chunk.length; ) {
        const n = Math.min(chunk.length - from, BATCH - filled);
        buffers[current].set(chunk.subarray(from, from + n), filled);
        filled += n;
        from += n;
        if (filled === BATCH) await start();
      }
    },
    async flush() {
      if (filled) await start();
      await inFlight;
      buffers.forEach(giveBack);
    },
    /** Waits for the write in flight, ignoring its failure (the caller is already failing for another reason). */
    async settle() {
      await inFlight.catch(() => undefined);
      buffers.forEach(giveBack);
    },
  };
}

/**
 * Batch buffers are reused (as many as 4 parts in flight need): fresh ones for every part are external memory
 * that V8 counts towards its next full collection, and a gigabyte of parts then costs seconds of collector threads.
 */
const spare: Buffer[] = [];
const SPARE_LIMIT = 8;
const takeBuffer = () => spare.pop() ?? Buffer.allocUnsafeSlow(BATCH);
const giveBack = (buffer: Buffer) => {
  if (spare.length < SPARE_LIMIT) spare.push(buffer);
};

async function writeAll(fh: FileHandle, buffer: Uint8Array, position?: number) {
  for (let done = 0; done < buffer.length; ) {
    const { bytesWritten } = await fh.write(buffer, done, buffer.length - done, position === undefined ? null : position + done);
    done += bytesWritten;
  }
}
