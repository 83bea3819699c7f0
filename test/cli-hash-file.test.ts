import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hashFile } from '../src/cli/client/download.js';

// The client reads 1 MiB at a time into two buffers, the next read filling one while the other is hashed: sizes
// around those boundaries are where an overwritten buffer would show.
const MiB = 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'dreamlake-hashfile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('hashFile (the client\'s SHA-256 of a local file)', () => {
  for (const size of [0, 1, MiB - 1, MiB, MiB + 1, 2 * MiB, 3 * MiB + 5]) {
    it(`matches the SHA-256 of the bytes for ${size} bytes`, async () => {
      const bytes = randomBytes(size);
      const file = join(dir, `f${size}`);
      writeFileSync(file, bytes);
      expect(await hashFile(file)).toBe(createHash('sha256').update(bytes).digest('hex'));
    });
  }
});
