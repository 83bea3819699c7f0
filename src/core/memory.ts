import { pipeline, Transform, type Readable } from 'node:stream';

const MiB = 1024 * 1024;

type Gc = (options: { type: 'minor'; execution: 'sync' }) => void;
const gc = (globalThis as { gc?: Gc }).gc;

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
