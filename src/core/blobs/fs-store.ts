import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, opendir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AppError, badRequest, notFound } from '../errors.js';
import { FileRangeStream } from './file-range-stream.js';
import { createFsMultipart } from './fs-multipart.js';
import { copyDigesting } from './copy.js';
import { isSha256Hex, verifyContent, type BlobEntry, type BlobInfo, type BlobStore, type CompleteChecks } from './store.js';

/**
 * Blobs on the local filesystem: `<root>/ab/cd/<sha256>`. An upload is written to `<root>/tmp/`, fsynced,
 * then renamed into place, so a crash never leaves a partial file under a content address; an identical
 * upload renames over the existing copy (same bytes), which also refreshes its age for the collector.
 * No name given by a user ever reaches the filesystem: paths are built from validated hex digests only.
 */
export function createFsBlobStore(root: string): BlobStore {
  const tmpDir = join(root, 'tmp');
  let ready: Promise<unknown> | undefined;
  const ensureTmp = () => (ready ??= mkdir(tmpDir, { recursive: true }));

  const pathOf = (sha256: string) => {
    if (!isSha256Hex(sha256)) throw badRequest('Not a sha256 digest.');
    return join(root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  };

  /** Renames a durable file of verified content into its address (over an identical copy, if any). */
  const settle = async (file: string, sha256: string) => {
    const dest = pathOf(sha256);
    await mkdir(dirname(dest), { recursive: true });
    await rename(file, dest);
    await syncDir(dirname(dest));
  };

  const put = async (source: AsyncIterable<Uint8Array>, checks: CompleteChecks = {}): Promise<BlobInfo> => {
    await ensureTmp();
    const tmp = join(tmpDir, `${randomUUID()}.part`);
    const fh = await open(tmp, 'wx', 0o600);
    let closed = false;
    let stored = false;
    try {
      const { digest: sha256, size } = await copyDigesting(source, fh, 'sha256', checks, 'file');
      verifyContent({ sha256, size }, checks);
      await fh.sync();
      await fh.close();
      closed = true;
      await settle(tmp, sha256);
      stored = true;
      return { sha256, size };
    } finally {
      if (!closed) await fh.close().catch(() => undefined);
      if (!stored) await rm(tmp, { force: true });
    }
  };

  const adopt = async (file: string, size: number, checks: CompleteChecks, beforeRename?: (info: BlobInfo) => Promise<void>): Promise<BlobInfo> => {
    const fh = await open(file, 'r+');
    let info: BlobInfo;
    try {
      info = { sha256: await sha256Of(fh, size), size };
      verifyContent(info, checks);
      await fh.truncate(size); // slots past the last part named (parts sent but left out)
      const now = new Date();
      await fh.utimes(now, now); // a new blob for the collector's grace period, though its bytes arrived earlier
      await fh.sync();
    } finally {
      await fh.close();
    }
    await beforeRename?.(info);
    await settle(file, info.sha256);
    return info;
  };
  const exists = (sha256: string) => stat(pathOf(sha256)).then((s) => s.isFile(), () => false);
  const { sweepStaging, ...multipart } = createFsMultipart(root, { put, adopt, exists });

  return {
    put,

    async get(sha256, range) {
      let fh: FileHandle;
      try {
        fh = await open(pathOf(sha256), 'r');
      } catch (err) {
        if (isMissing(err)) throw notFound('The content of this file is missing from the blob store.');
        throw err;
      }
      return new FileRangeStream(fh, range?.start ?? 0, range?.end ?? Infinity);
    },

    exists,

    async delete(sha256, options = {}) {
      const path = pathOf(sha256);
      if (!options.olderThan) return unlink(path).then(() => true, ignoreMissing);
      // Move it aside first, then look at its age: an upload that renamed a fresh copy in just before is
      // seen here (young) and put back; one that renames after the move simply creates a new copy.
      await ensureTmp();
      const aside = join(tmpDir, `${sha256}.${randomUUID()}.gc`);
      if (!(await rename(path, aside).then(() => true, ignoreMissing))) return false;
      const { mtimeMs } = await stat(aside);
      if (mtimeMs >= options.olderThan.getTime()) {
        await rename(aside, path);
        return false;
      }
      await unlink(aside);
      return true;
    },

    async *list(): AsyncIterable<BlobEntry> {
      for (const first of await hexDirs(root)) {
        for (const second of await hexDirs(join(root, first))) {
          const dir = await opendir(join(root, first, second)).catch(() => null);
          if (!dir) continue;
          for await (const entry of dir) {
            if (!entry.isFile() || !isSha256Hex(entry.name)) continue;
            const s = await stat(join(root, first, second, entry.name)).catch(() => null);
            if (s) yield { sha256: entry.name, size: s.size, modifiedAt: s.mtime };
          }
        }
      }
    },

    ...multipart,
    // The server receives parts and serves downloads itself: it signs its own URLs.
    async presignParts() {
      return null;
    },
    async presignGet() {
      return null;
    },

    async sweep(olderThan) {
      let removed = await sweepStaging(olderThan);
      const dir = await opendir(tmpDir).catch(() => null);
      if (!dir) return removed;
      for await (const entry of dir) {
        const path = join(tmpDir, entry.name);
        const s = await stat(path).catch(() => null);
        if (s?.isFile() && s.mtimeMs < olderThan.getTime() && (await unlink(path).then(() => true, ignoreMissing))) removed++;
      }
      return removed;
    },
  };
}

/**
 * The sha256 of the first `size` bytes of `fh`, read through one reused buffer: gigabytes read as fresh 1 MiB
 * chunks leave tens of MB of garbage between collections, which the server's peak RSS would show.
 */
async function sha256Of(fh: FileHandle, size: number): Promise<string> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(Math.min(size, 1 << 20));
  for (let position = 0; position < size; ) {
    const { bytesRead } = await fh.read(buffer, 0, Math.min(buffer.length, size - position), position);
    if (!bytesRead) throw new AppError(409, 'conflict', 'The staged upload changed while it was being completed.');
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
  return hash.digest('hex');
}

/** Makes a rename durable: the directory entry itself must reach the disk. */
async function syncDir(dir: string) {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function hexDirs(dir: string): Promise<string[]> {
  const handle = await opendir(dir).catch(() => null);
  if (!handle) return [];
  const names: string[] = [];
  for await (const entry of handle) if (entry.isDirectory() && /^[0-9a-f]{2}$/.test(entry.name)) names.push(entry.name);
  return names;
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

function ignoreMissing(err: unknown): false {
  if (isMissing(err)) return false;
  throw err;
}
