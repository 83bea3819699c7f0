import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyDigesting } from '../../src/core/blobs/copy.js';

const MiB = 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'dreamlake-copy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function* chunksOf(data: Buffer, sizes: number[]) {
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = sizes[i % sizes.length];
    yield Buffer.from(data.subarray(at, at + n)); // a fresh buffer per chunk, as a socket gives
    at += n;
  }
}

describe('copyDigesting (batched writes)', () => {
  it('writes chunks of any size (across and larger than its 1 MiB batches) at a position, with the right digest', async () => {
    const data = randomBytes(3 * MiB + 12_345);
    const path = join(dir, 'positioned');
    const fh = await open(path, 'w+');
    try {
      await fh.write(Buffer.alloc(100, 7), 0, 100, 0);
      const out = await copyDigesting(chunksOf(data, [1, 65_536, 333_333, 2 * MiB + 1, 17]), fh, 'md5', { expectedSize: data.length }, 'part', 100);
      expect(out).toEqual({ digest: createHash('md5').update(data).digest('hex'), size: data.length });
    } finally {
      await fh.close();
    }
    const file = readFileSync(path);
    expect(file.length).toBe(100 + data.length);
    expect(file.subarray(0, 100).equals(Buffer.alloc(100, 7))).toBe(true);
    expect(file.subarray(100).equals(data)).toBe(true);
  });

  it('appends at the current offset without a position; copies of one batch reuse no bytes of another', async () => {
    const first = randomBytes(MiB + 1);
    const second = randomBytes(2 * MiB - 1);
    const path = join(dir, 'appended');
    const fh = await open(path, 'w');
    try {
      await copyDigesting(chunksOf(first, [40_000]), fh, 'sha256', {}, 'file');
      const out = await copyDigesting(chunksOf(second, [MiB]), fh, 'sha256', {}, 'file');
      expect(out.digest).toBe(createHash('sha256').update(second).digest('hex'));
    } finally {
      await fh.close();
    }
    expect(readFileSync(path).equals(Buffer.concat([first, second]))).toBe(true);
  });

  it('a source that breaks off is a 400 after the write in flight settles; a size past the limit is a 413', async () => {
    const fh = await open(join(dir, 'broken'), 'w');
    try {
      async function* breaking() {
        yield randomBytes(MiB);
        yield randomBytes(MiB); // the first batch is being written while this one gathers
        throw new Error('socket hang up');
      }
      await expect(copyDigesting(breaking(), fh, 'md5', {}, 'part', 0)).rejects.toMatchObject({ status: 400, code: 'upload_interrupted' });
      await expect(copyDigesting(chunksOf(randomBytes(3 * MiB), [MiB]), fh, 'md5', { maxBytes: 2 * MiB }, 'part', 0)).rejects.toMatchObject({
        status: 413,
      });
      await expect(copyDigesting(chunksOf(randomBytes(MiB), [MiB]), fh, 'md5', { expectedSize: MiB + 1 }, 'part', 0)).rejects.toMatchObject({
        status: 400,
        code: 'size_mismatch',
      });
    } finally {
      await fh.close();
    }
  });

  it('a failing write (a closed file) rejects the copy instead of going unnoticed', async () => {
    const fh = await open(join(dir, 'closed'), 'w');
    await fh.close();
    await expect(copyDigesting(chunksOf(randomBytes(3 * MiB), [MiB]), fh, 'md5', {}, 'part', 0)).rejects.toThrow();
  });
});
