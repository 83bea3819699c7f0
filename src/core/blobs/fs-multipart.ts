import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError, badRequest, notFound, payloadTooLarge } from '../errors.js';
import { copyDigesting } from './copy.js';
import type { BlobInfo, MultipartBlobs, PartInfo, PartRef, PutChecks } from './store.js';

type Put = (source: AsyncIterable<Uint8Array>, checks?: PutChecks & { expectedSha256Prefix?: string }) => Promise<BlobInfo>;

const UPLOAD_ID = /^[0-9a-f]{32}$/;
const PART_FILE = /^p(\d{5})-([0-9a-f]{32})$/;
export const MAX_PART_NUMBER = 10_000;

/**
 * Multipart staging on the filesystem: `<root>/staging/<uploadId>/` holds `meta.json` (the key it belongs to)
 * and one file per received part, named `p<number>-<md5>`: the ETag is in the name, so listing the parts reads
 * no content, and a re-sent part lands beside the old one (written to a temp file, renamed) before the old
 * one is removed. Completing streams the parts named by the client, in order, through `put` (which hashes,
 * checks and renames into the content address): nothing is held in memory, and a failed check stores nothing.
 */
export function createFsMultipart(root: string, put: Put): Omit<MultipartBlobs, 'presignPart' | 'presignGet'> & {
  sweepStaging(olderThan: Date): Promise<number>;
} {
  const stagingRoot = join(root, 'staging');

  const dirOf = (uploadId: string) => {
    if (!UPLOAD_ID.test(uploadId)) throw uploadGone();
    return join(stagingRoot, uploadId);
  };

  /** The staged upload's folder, checked to belong to `key` (anything else is as good as missing). */
  const stagedDir = async (key: string, uploadId: string) => {
    const dir = dirOf(uploadId);
    const meta = await readFile(join(dir, 'meta.json'), 'utf8').then((t) => JSON.parse(t) as { key: string }, () => null);
    if (!meta || meta.key !== key) throw uploadGone();
    return dir;
  };

  const partsIn = async (dir: string): Promise<Map<number, { etag: string; file: string }[]>> => {
    const byNumber = new Map<number, { etag: string; file: string }[]>();
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const m = PART_FILE.exec(name);
      if (!m) continue;
      const n = Number(m[1]);
      byNumber.set(n, [...(byNumber.get(n) ?? []), { etag: m[2], file: join(dir, name) }]);
    }
    return byNumber;
  };

  return {
    async createMultipart(key, contentType) {
      const uploadId = randomBytes(16).toString('hex');
      const dir = join(stagingRoot, uploadId);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'meta.json'), JSON.stringify({ key, contentType, createdAt: new Date().toISOString() }), { mode: 0o600 });
      return uploadId;
    },

    async putPart(key, uploadId, partNumber, source, checks = {}) {
      checkPartNumber(partNumber);
      const dir = await stagedDir(key, uploadId);
      const tmp = join(dir, `${randomUUID()}.tmp`);
      const fh = await open(tmp, 'wx', 0o600);
      let closed = false;
      let kept = false;
      try {
        const { digest: etag, size } = await copyDigesting(source, fh, 'md5', checks, 'part');
        await fh.sync();
        await fh.close();
        closed = true;
        const name = `p${String(partNumber).padStart(5, '0')}-${etag}`;
        await rename(tmp, join(dir, name));
        kept = true;
        // A re-sent part replaces the earlier one: drop other contents of the same number.
        for (const old of (await partsIn(dir)).get(partNumber) ?? []) {
          if (old.etag !== etag) await unlink(old.file).catch(() => undefined);
        }
        return { partNumber, etag, size };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw uploadGone(); // aborted while it arrived
        throw err;
      } finally {
        if (!closed) await fh.close().catch(() => undefined);
        if (!kept) await rm(tmp, { force: true });
      }
    },

    async listParts(key, uploadId) {
      const dir = await stagedDir(key, uploadId);
      const parts: PartInfo[] = [];
      for (const [partNumber, files] of await partsIn(dir)) {
        // Two different contents of one number only while a re-send is being swapped in: take the newer.
        let best: PartInfo | undefined;
        let bestTime = -1;
        for (const f of files) {
          const s = await stat(f.file).catch(() => null);
          if (s && s.mtimeMs > bestTime) {
            best = { partNumber, etag: f.etag, size: s.size };
            bestTime = s.mtimeMs;
          }
        }
        if (best) parts.push(best);
      }
      return parts.sort((a, b) => a.partNumber - b.partNumber);
    },

    async completeMultipart(key, uploadId, parts, checks = {}) {
      const dir = await stagedDir(key, uploadId);
      const files = await partFiles(dir, parts);
      const info = await put(concat(files), checks);
      await rm(dir, { recursive: true, force: true });
      return info;
    },

    async abortMultipart(key, uploadId) {
      if (!UPLOAD_ID.test(uploadId)) return;
      try {
        await stagedDir(key, uploadId);
      } catch {
        return;
      }
      await rm(dirOf(uploadId), { recursive: true, force: true });
    },

    /** Temp files of part writes that were cut short (whole staged uploads expire through their owner's sweep). */
    async sweepStaging(olderThan) {
      let removed = 0;
      for (const upload of await readdir(stagingRoot).catch(() => [] as string[])) {
        if (!UPLOAD_ID.test(upload)) continue;
        for (const name of await readdir(join(stagingRoot, upload)).catch(() => [] as string[])) {
          if (!name.endsWith('.tmp')) continue;
          const path = join(stagingRoot, upload, name);
          const s = await stat(path).catch(() => null);
          if (s && s.mtimeMs < olderThan.getTime() && (await unlink(path).then(() => true, () => false))) removed++;
        }
      }
      return removed;
    },
  };
}

export const uploadGone = () => notFound('The staged upload does not exist (completed, aborted or expired).');

function checkPartNumber(n: number) {
  if (!Number.isInteger(n) || n < 1 || n > MAX_PART_NUMBER) throw badRequest(`partNumber must be an integer from 1 to ${MAX_PART_NUMBER}.`, 'invalid_part');
}

/** Normalises an ETag as S3 and clients spell it (quoted or not, any case). */
export function bareEtag(etag: string): string {
  return etag.trim().replace(/^W\//, '').replace(/^"|"$/g, '').toLowerCase();
}

/** The staged files of `parts`, in ascending part order; an unknown part or ETag is a 400. */
async function partFiles(dir: string, parts: PartRef[]): Promise<string[]> {
  if (!parts.length) throw badRequest('parts must list at least one part.', 'invalid_part');
  const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
  const files: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const { partNumber } = sorted[i];
    checkPartNumber(partNumber);
    if (i > 0 && sorted[i - 1].partNumber === partNumber) throw badRequest(`Part ${partNumber} is listed twice.`, 'invalid_part');
    const etag = bareEtag(sorted[i].etag);
    const file = join(dir, `p${String(partNumber).padStart(5, '0')}-${etag}`);
    if (!/^[0-9a-f]{32}$/.test(etag) || !(await stat(file).then((s) => s.isFile(), () => false))) {
      throw badRequest(`Part ${partNumber} with ETag ${sorted[i].etag} was not received.`, 'invalid_part');
    }
    files.push(file);
  }
  return files;
}

async function* concat(files: string[]): AsyncIterable<Uint8Array> {
  for (const file of files) {
    try {
      for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) yield chunk as Buffer;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new AppError(409, 'conflict', 'The staged upload changed while it was being completed.');
      throw err;
    }
  }
}

