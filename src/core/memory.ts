import { pipeline, Transform, type Readable } from 'node:stream';
import { getHeapStatistics } from 'node:v8';

const MiB = 1024 * 1024;

type Gc = (options: { type: 'minor' | 'major'; execution: 'sync' | 'async' }) => void | Promise<void>;
const gc = (globalThis as { gc?: Gc }).gc;

/** Bytes streamed since the heap was last looked at (see `trimAfterBytes`). */
let sinceHeapCheck = 0;
/** The heap's used size after the last full collection asked for (first: its size at the first look). */
let heapFloor: number | undefined;
let trimming = false;
const HEAP_CHECK_EVERY = 64 * MiB;
const HEAP_GROWTH = 8 * MiB;

/**
 * Keeps the old generation near its live size while files stream, so the server's memory stays flat in the size
 * (and number) of transfers: every request of a download or upload leaves a few kB that outlive the young
 * collections (request and reply objects, promises), and V8 only collects the old generation once it has grown
 * well past its size at the last full collection (measured: +1 MB a second during a 4-part download, 45 → 62 MB
 * of heap for 2 GiB). Every 64 MiB streamed it looks at the heap, and when it has grown 8 MiB since the last full
 * collection, asks for one as a task of its own (tens of milliseconds for this heap; at most once per such
 * growth: about once a GiB).
 */
function trimAfterBytes(bytes: number): void {
  sinceHeapCheck += bytes;
  if (sinceHeapCheck < HEAP_CHECK_EVERY || !gc || trimming) return;
  sinceHeapCheck = 0;
  const used = getHeapStatistics().used_heap_size;
  heapFloor ??= used;
  if (used - heapFloor < HEAP_GROWTH) return;
  trimming = true;
  Promise.resolve(gc({ type: 'major', execution: 'async' })).then(
    () => {
      heapFloor = getHeapStatistics().used_heap_size;
      trimming = false;
    },
    () => {
      trimming = false;
    },
  );
}

/**
 * One full collection once the server is built and listening: building the app and its routes leaves garbage (the
 * heap is 45 MB used, 35–38 MB of it alive), and its live size is the floor `trimAfterBytes` measures growth from.
 */
export function settleHeap(): void {
  if (!gc) return;
  gc({ type: 'major', execution: 'sync' });
  heapFloor = getHeapStatistics().used_heap_size;
}

/** Told the bytes a stream of ours moved without allocating per chunk (pooled file reads): heap trimming only. */
export const streamedBytes = trimAfterBytes;

/**
 * Bytes streamed since the last collection, by every counter in the process together: four parts in flight then
 * cost one collection per `every` bytes, not four (each collection promotes what is alive at that instant, and
 * the old generation's garbage is most of the server's RSS above its idle size while files stream).
 */
let streamedSince = 0;

/**
 * A counter of streamed bytes that asks V8 for a young-generation collection (well under a millisecond) every
 * `every` bytes streamed by all counters together. Each socket or file read is a fresh Buffer that V8 frees only
 * at its next collection, and a loop that only hashes and writes allocates too little else to trigger one:
 * streaming a GiB otherwise leaves peaks of 20–70 MB of dead Buffers, most of the server's RSS above its idle size
 * (about twice `every` remains). Effective when Node runs with --expose-gc (as bin/dreamlake.js and `npm start`
 * start it); a no-op otherwise.
 */
export function collectingEvery(every = 4 * MiB): (bytes: number) => void {
  if (!gc) return () => {};
  return (bytes) => {
    trimAfterBytes(bytes);
    streamedSince += bytes;
    if (streamedSince < every) return;
    streamedSince = 0;
    gc({ type: 'minor', execution: 'sync' });
  };
}

/** `source` passed through such a counter (for streams handed to a reply, whose reads no loop of ours sees). */
export function collecting(source: Readable): Readable {
  if (!gc) return source;
  const collect = collectingEvery();
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      collect(chunk.length);
      done(null, chunk);
    },
  });
  return pipeline(source, counted, () => {}); // an error or a closed reply destroys both
}
