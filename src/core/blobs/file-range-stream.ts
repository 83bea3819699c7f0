import type { FileHandle } from 'node:fs/promises';
import { ServerResponse } from 'node:http';
import { Readable, type Writable } from 'node:stream';
import { streamedBytes } from '../memory.js';

const CHUNK = 256 * 1024;
/** Chunks in flight to one response at once: enough to keep the socket busy while the next one is read. */
const IN_FLIGHT = 4;
/** Idle chunk buffers kept for the next responses (8 MiB): a download client asks for many ranges at once. */
const KEPT = 32;
const idle: Buffer[] = [];

const takeBuffer = () => idle.pop() ?? Buffer.allocUnsafeSlow(CHUNK);
const giveBack = (buffer: Buffer) => {
  if (idle.length < KEPT) idle.push(buffer);
};

/**
 * The bytes `start`..`end` (inclusive; `end` Infinity: to the end of the file) of an open file, closed when the stream ends or is destroyed.
 *
 * Piped into an HTTP response (as a Fastify reply pipes a stream payload), it reads into buffers of a pool
 * shared by all responses and reuses each one once the response's write callback says the socket has taken
 * it, so serving files allocates no memory per chunk, nor per request once the pool is warm. It also waits for the
 * response's 'drain' when a write says the socket is full, so a client that reads slowly holds one or two chunks
 * of the pool, not IN_FLIGHT. A stream like `fs.createReadStream` allocates a fresh Buffer per read,
 * freed only at V8's next collection: at a few hundred MB/s, enough of them outlive young collections to grow
 * the old generation by tens of MB until a full collection. Any other destination (a Transform, a hash) may
 * keep the chunks it is given, so it gets ordinary fresh buffers through `_read`.
 */
export class FileRangeStream extends Readable {
  #position: number;
  #stop: (() => void) | null = null;
  /** Told the size of every chunk read (byte counters: wrapping this stream in a Transform would undo the pool). */
  onBytes: ((bytes: number) => void) | null = null;

  constructor(
    private readonly file: FileHandle,
    start: number,
    private readonly end: number,
  ) {
    super({ highWaterMark: CHUNK });
    this.#position = start;
  }

  override _read(): void {
    const want = this.#remaining(CHUNK);
    if (want === 0) {
      this.push(null);
      return;
    }
    this.#readInto(Buffer.allocUnsafeSlow(want)).then(
      (chunk) => this.push(chunk), // null at the end of the file
      (err: Error) => this.destroy(err),
    );
  }

  override pipe<T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T {
    if (!(destination instanceof ServerResponse)) return super.pipe(destination, options);
    this.#pump(destination, options?.end !== false).then(
      () => {
        if (this.destroyed) return;
        this.push(null);
        this.resume(); // 'end' for whoever waits on this stream (Fastify's end-of-stream watcher)
      },
      (err: Error) => this.destroy(err),
    );
    return destination;
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.#stop?.();
    // FileHandle.close waits for a read in progress before it closes.
    this.file.close().then(() => callback(err), (closeErr: Error) => callback(err ?? closeErr));
  }

  #remaining(most: number): number {
    return Math.max(0, Math.min(most, this.end + 1 - this.#position));
  }

  /** The next bytes, read into `buffer`, or null at the end of the file (an error before `end`). */
  async #readInto(buffer: Buffer): Promise<Buffer | null> {
    const { bytesRead } = await this.file.read(buffer, 0, buffer.length, this.#position);
    if (bytesRead === 0) {
      if (this.end === Infinity) return null;
      throw new Error('The stored file is shorter than the range asked of it.');
    }
    this.#position += bytesRead;
    streamedBytes(bytesRead);
    this.onBytes?.(bytesRead);
    return bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
  }

  async #pump(response: Writable, end: boolean): Promise<void> {
    let lent = 0; // buffers taken from the pool and not yet given back
    let full = false; // the response said to wait for 'drain' (a slow client: hold one chunk, not IN_FLIGHT)
    let wake: (() => void) | null = null;
    const wakeUp = () => {
      const resume = wake;
      wake = null;
      resume?.();
    };
    const drained = () => {
      full = false;
      wakeUp();
    };
    this.#stop = wakeUp;
    response.on('drain', drained);
    response.once('close', wakeUp);
    try {
      while (!this.destroyed) {
        const want = this.#remaining(CHUNK);
        if (want === 0) break;
        while ((lent === IN_FLIGHT || full) && !this.destroyed && !response.destroyed) {
          await new Promise<void>((resolve) => (wake = resolve));
        }
        if (this.destroyed || response.destroyed) return;
        const buffer = takeBuffer();
        let chunk: Buffer | null;
        try {
          chunk = await this.#readInto(want === CHUNK ? buffer : buffer.subarray(0, want));
        } catch (err) {
          giveBack(buffer);
          throw err;
        }
        if (this.destroyed || chunk === null) {
          giveBack(buffer);
          if (chunk === null) break;
          return;
        }
        // A response's write callback runs once the socket has handed the chunk to the kernel (or failed):
        // only then may the buffer be read into again. A buffer whose write failed may still be referenced by
        // the response, so it is left to the collector; Fastify destroys this stream after such a failure.
        lent++;
        full = !response.write(chunk, (err) => {
          lent--;
          if (!err) giveBack(buffer);
          wakeUp();
        });
      }
      if (end && !this.destroyed) response.end();
    } finally {
      response.off('drain', drained);
      response.off('close', wakeUp);
    }
  }
}
