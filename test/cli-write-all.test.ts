import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeAllAt } from '../src/cli/client/download.js';

const dir = mkdtempSync(join(tmpdir(), 'dreamlake-write-all-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const chunks = [Buffer.from('abc'), Buffer.from('defgh'), Buffer.from('ij')];

describe('writeAllAt (the download client writing received chunks)', () => {
  it('writes the chunks back to back at the position', async () => {
    const path = join(dir, 'whole');
    const fh = await open(path, 'w+');
    await fh.truncate(14);
    await writeAllAt(fh, chunks, 2);
    await fh.close();
    expect(readFileSync(path).subarray(2, 12).toString()).toBe('abcdefghij');
  });

  it('finishes a short writev with the bytes that were not written, at their places', async () => {
    const path = join(dir, 'short');
    const real = await open(path, 'w+');
    const calls: string[] = [];
    const short = {
      writev: async (buffers: Buffer[], position: number) => {
        calls.push(`writev@${position}`);
        await real.write(buffers[0], 0, 3, position); // the kernel took only the first 3 bytes
        return { bytesWritten: 3, buffers };
      },
      write: async (buffer: Buffer, offset: number, length: number, position: number) => {
        calls.push(`write@${position}`);
        const half = Math.max(1, Math.floor(length / 2)); // and then half of what is asked, each time
        return real.write(buffer, offset, half, position);
      },
    } as unknown as FileHandle;
    await writeAllAt(short, chunks, 0);
    await real.close();
    expect(readFileSync(path).toString()).toBe('abcdefghij');
    expect(calls[0]).toBe('writev@0');
    expect(calls[1]).toBe('write@3');
  });
});
