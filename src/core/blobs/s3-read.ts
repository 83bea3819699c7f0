import type { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';

export interface RangedReadOptions {
  /** Ranged GETs in flight. */
  width: number;
  /** Bytes per ranged GET. */
  rangeSize: number;
}

/**
 * The `size` bytes of an object, in order, read as ranged GETs `width` at a time, so that the object store
 * serves the next ranges while the consumer (a hash, which must see the bytes in order) works on this one.
 * Swift on this project's 2-core test machine, 1 GiB hashed as it arrives: one GET 170-185 MB/s, 4 ranged GETs of
 * 8 MiB 223-246 MB/s (wider or longer ranges were no faster). Reading each range into memory before its turn
 * cost 60-80 MB of RSS (Buffers that outlive young-generation collections); paused streams cost about 20.
 * Throws when the object does not hold exactly `size` bytes (every answer's Content-Range names the total).
 */
export async function* readRanges(client: S3Client, Bucket: string, Key: string, size: number, options: RangedReadOptions): AsyncGenerator<Buffer> {
  const abort = new AbortController();
  if (size <= options.rangeSize) {
    // One GET, streamed: a range would be refused (416) for an empty object.
    const out = await client.send(new GetObjectCommand({ Bucket, Key }), { abortSignal: abort.signal });
    let got = 0;
    try {
      for await (const chunk of out.Body as Readable) {
        got += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
    } finally {
      (out.Body as Readable).destroy(); // a no-op once read to the end; frees the socket on an early exit
    }
    if (got !== size || out.ContentLength !== size) throw new Error(`${Key} holds ${out.ContentLength ?? got} bytes, not ${size}.`);
    return;
  }
  const count = Math.ceil(size / options.rangeSize);
  // Each range's answer is a paused stream until its turn: its bytes wait in the kernel's socket buffer (TCP
  // backpressure then holds the object store), not in this process, whose memory stays flat.
  const open = async (i: number) => {
    const start = i * options.rangeSize;
    const end = Math.min(size, start + options.rangeSize) - 1;
    const out = await client.send(new GetObjectCommand({ Bucket, Key, Range: `bytes=${start}-${end}` }), { abortSignal: abort.signal });
    const body = out.Body as Readable;
    if (out.ContentRange !== `bytes ${start}-${end}/${size}`) {
      body.destroy();
      throw new Error(`${Key} answered range ${out.ContentRange ?? '(none)'} for bytes ${start}-${end}/${size}.`);
    }
    return { body, length: end - start + 1 };
  };
  const inFlight: Promise<{ body: Readable; length: number }>[] = [];
  let next = 0;
  const launch = () => {
    const p = open(next++);
    p.catch(() => undefined); // awaited in order below; an early exit must not leave an unhandled rejection
    inFlight.push(p);
  };
  try {
    while (next < count && inFlight.length < options.width) launch();
    while (inFlight.length) {
      const { body, length } = await inFlight.shift()!;
      if (next < count) launch();
      let got = 0;
      for await (const chunk of body) {
        got += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
      if (got !== length) throw new Error(`${Key}: ${got} bytes for a range of ${length}.`);
    }
  } finally {
    abort.abort();
    for (const p of inFlight) p.then(({ body }) => body.destroy(), () => undefined);
  }
}
