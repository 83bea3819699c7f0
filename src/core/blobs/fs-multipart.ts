import { randomBytes, randomUUID } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError, badRequest, notFound, payloadTooLarge } from '../errors.js';
import { copyDigesting } from './copy.js';
import { isSha256Hex, verifyContent, type BlobInfo, type CompleteChecks, type MultipartBlobs, type PartInfo, type PartRef, type PutChecks } from './store.js';

type Put = (source: AsyncIterable<Uint8Array>, checks?: CompleteChecks) => Promise<BlobInfo>;
/** Makes the first `size` bytes of `file` a blob without copying them (hashed, checked, renamed into place). */
type Adopt = (file: string, size: number, checks: CompleteChecks, beforeRename?: (info: BlobInfo) => Promise<void>) => Promise<BlobInfo>;

const UPLOAD_ID = /^[0-9a-f]{32}$/;
// Record names end with a stamp (see `stamp`); records written before stamps existed have none and count as oldest.
const PART_FILE = /^p(\d{5})-([0-9a-f]{32})(?:-([0-9a-z]{18}))?$/;
const SLOT_MARK = /^s(\d{5})-([0-9a-f]{32})-(\d+)(?:-([0-9a-z]{18}))?$/;
const SLOT_LOCK = /^s\d{5}\.lock$/;
const COMPLETING = 'completing.lock';
const ADOPTED = 'adopted.json';
export const MAX_PART_NUMBER = 10_000;

interface Meta {
  key: string;
  partSize?: number;
}

/** A received part: in its slot of `data` (at (n-1)·partSize) or in a file of its own. */
interface Staged extends PartInfo {
  /** Orders the records of one part number: the newest write wins. */
  stamp: string;
  name: string;
  file?: string;
}

/**
 * Multipart staging on the filesystem: `<root>/staging/<uploadId>/` holds `meta.json` (the key it belongs to and
 * the part size clients were told) and the parts. A part of at most that size, with a known length, is written
 * in place into `data` at (n-1)·partSize and recorded by an empty marker `s<n>-<md5>-<size>-<stamp>`; any other
 * part (longer, length unknown, or its slot holding or receiving another copy of that part) goes to a file of its
 * own, `p<n>-<md5>-<stamp>`. ETags and sizes are in the names, so listing reads no content. A re-sent part
 * replaces the earlier one once it has arrived whole (S3's rule): each write, once its record is in place, removes
 * the records of its number with an older stamp, so of concurrent writes the newest always stays, and a re-send
 * that is cut short leaves the earlier copy as it was. When the parts completed are exactly slots 1..N, all but the last full, `data` already is the
 * file: completing hashes it once and renames it into its content address (no copy), holding `completing.lock`
 * so that no slot write can reach the file that becomes a blob. Otherwise (or while slot writes are in flight) the
 * parts are streamed, in order, through `put`. Either way a failed check stores nothing and keeps the staged upload.
 */
export function createFsMultipart(root: string, store: { put: Put; adopt: Adopt; exists: (sha256: string) => Promise<boolean> }): Omit<MultipartBlobs, 'presignParts' | 'presignGet'> & {
  sweepStaging(olderThan: Date): Promise<number>;
} {
  const stagingRoot = join(root, 'staging');

  const dirOf = (uploadId: string) => {
    if (!UPLOAD_ID.test(uploadId)) throw uploadGone();
    return join(stagingRoot, uploadId);
  };

  /** The staged upload's folder and meta, checked to belong to `key` (anything else is as good as missing). */
  const staged = async (key: string, uploadId: string) => {
    const dir = dirOf(uploadId);
    const meta = await readFile(join(dir, 'meta.json'), 'utf8').then((t) => JSON.parse(t) as Meta, () => null);
    if (!meta || meta.key !== key) throw uploadGone();
    const partSize = Number.isSafeInteger(meta.partSize) && meta.partSize! > 0 ? meta.partSize : undefined;
    return { dir, partSize };
  };

  /**
   * What an in-place complete recorded (in `ADOPTED`) just before it renamed `data` into its content address: null
   * when there is no record or its blob is not there.
   */
  const recorded = async (dir: string): Promise<BlobInfo | null> => {
    const text = await readFile(join(dir, ADOPTED), 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    if (text === null) return null;
    let info: BlobInfo;
    try {
      info = JSON.parse(text) as BlobInfo;
    } catch {
      return null; // cut short while it was written: `data` was not renamed yet
    }
    // Only the parse may fail quietly: a store that cannot answer is an error, not "no blob".
    return isSha256Hex(info?.sha256) && Number.isSafeInteger(info.size) && (await store.exists(info.sha256)) ? info : null;
  };

  const partsIn = async (dir: string): Promise<Map<number, Staged[]>> => {
    const byNumber = new Map<number, Staged[]>();
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const record = recordNamed(name);
      if (!record) continue;
      const s = await stat(join(dir, name)).catch(() => null);
      if (!s) continue;
      const { partNumber, etag, stamp, slotSize } = record;
      const part: Staged = slotSize === undefined ? { partNumber, etag, size: s.size, stamp, name, file: join(dir, name) } : { partNumber, etag, size: slotSize, stamp, name };
      byNumber.set(partNumber, [...(byNumber.get(partNumber) ?? []), part]);
    }
    return byNumber;
  };

  /** Part `n`'s records (names only: no stat). */
  const recordsOf = async (dir: string, n: number) =>
    (await readdir(dir).catch(() => [] as string[])).map(recordNamed).filter((r): r is PartRecord => r?.partNumber === n);

  /** Removes the records of part `n` older than `stamp` (the record just written): a re-sent part replaces the earlier one. */
  const dropOlder = async (dir: string, n: number, stamp: string) => {
    for (const record of await recordsOf(dir, n)) {
      if (record.stamp < stamp) await unlink(join(dir, record.name)).catch(() => undefined);
    }
  };

  /** Part `n` written in place into its free slot of `data`; its marker appears only once its bytes are durable. */
  const putInSlot = async (dir: string, n: number, partSize: number, source: AsyncIterable<Uint8Array>, checks: PutChecks): Promise<PartInfo> => {
    const fh = await open(join(dir, 'data'), constants.O_RDWR | constants.O_CREAT, 0o600);
    let info: PartInfo;
    try {
      const slotChecks = { ...checks, maxBytes: Math.min(checks.maxBytes ?? partSize, partSize) };
      const { digest: etag, size } = await copyDigesting(source, fh, 'md5', slotChecks, 'part', (n - 1) * partSize);
      await fh.datasync();
      info = { partNumber: n, etag, size };
    } finally {
      await fh.close();
    }
    const stamped = stamp();
    await writeFile(join(dir, `s${pad(n)}-${info.etag}-${info.size}-${stamped}`), '', { mode: 0o600 });
    await dropOlder(dir, n, stamped);
    return info;
  };

  /** Part `n` in a file of its own (written to a temp file, renamed). */
  const putInFile = async (dir: string, n: number, source: AsyncIterable<Uint8Array>, checks: PutChecks): Promise<PartInfo> => {
    const tmp = join(dir, `${randomUUID()}.tmp`);
    const fh = await open(tmp, 'wx', 0o600);
    let closed = false;
    let kept = false;
    try {
      const { digest: etag, size } = await copyDigesting(source, fh, 'md5', checks, 'part');
      await fh.sync();
      await fh.close();
      closed = true;
      const stamped = stamp();
      await rename(tmp, join(dir, `p${pad(n)}-${etag}-${stamped}`));
      kept = true;
      await dropOlder(dir, n, stamped);
      return { partNumber: n, etag, size };
    } finally {
      if (!closed) await fh.close().catch(() => undefined);
      if (!kept) await rm(tmp, { force: true });
    }
  };

  /**
   * Slot `n` for one writer at a time, only while it holds no part (a re-send must not overwrite the copy it may
   * fail to replace), and never while `data` is being completed: otherwise null (the part then goes to a file of
   * its own). A writer and a complete each create their own lock file, then look for the
   * other's, so at least one of them sees the other: no write can reach `data` once it is (about to be) a blob.
   */
  const claimSlot = async (dir: string, n: number): Promise<(() => Promise<void>) | null> => {
    const release = await lock(join(dir, `s${pad(n)}.lock`));
    const slotHoldsPart = async () => (await recordsOf(dir, n)).some((r) => r.slotSize !== undefined);
    if (release && ((await exists(join(dir, COMPLETING))) || (await slotHoldsPart()))) {
      await release();
      return null;
    }
    return release;
  };

  /** `data` for completing in place: null while slot writes are in flight (or another complete holds it). */
  const claimData = async (dir: string): Promise<(() => Promise<void>) | null> => {
    const release = await lock(join(dir, COMPLETING));
    if (release && (await readdir(dir)).some((name) => SLOT_LOCK.test(name))) {
      await release();
      return null;
    }
    return release;
  };

  return {
    async createMultipart(key, contentType, options = {}) {
      const uploadId = randomBytes(16).toString('hex');
      const dir = join(stagingRoot, uploadId);
      await mkdir(dir, { recursive: true });
      const meta = { key, contentType, partSize: options.partSize, createdAt: new Date().toISOString() };
      await writeFile(join(dir, 'meta.json'), JSON.stringify(meta), { mode: 0o600 });
      return uploadId;
    },

    async putPart(key, uploadId, partNumber, source, checks = {}) {
      checkPartNumber(partNumber);
      const { dir, partSize } = await staged(key, uploadId);
      try {
        const fits = partSize !== undefined && checks.expectedSize !== undefined && checks.expectedSize <= partSize;
        const release = fits ? await claimSlot(dir, partNumber) : null;
        if (!release) return await putInFile(dir, partNumber, source, checks);
        try {
          return await putInSlot(dir, partNumber, partSize!, source, checks);
        } finally {
          await release();
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw uploadGone(); // aborted while it arrived
        throw err;
      }
    },

    async listParts(key, uploadId) {
      const { dir } = await staged(key, uploadId);
      const parts: PartInfo[] = [];
      for (const candidates of (await partsIn(dir)).values()) {
        // Two records of one number only while a re-send is being swapped in: take the newer.
        const { partNumber, etag, size } = candidates.reduce((a, b) => (b.stamp > a.stamp ? b : a));
        parts.push({ partNumber, etag, size });
      }
      return parts.sort((a, b) => a.partNumber - b.partNumber);
    },

    async completeMultipart(key, uploadId, parts, checks = {}) {
      const { dir, partSize } = await staged(key, uploadId);
      const chosen = choose(await partsIn(dir), parts);
      const size = chosen.reduce((sum, p) => sum + p.size, 0);
      if (checks.maxBytes !== undefined && size > checks.maxBytes) throw payloadTooLarge(`The file is larger than the limit of ${checks.maxBytes} bytes.`);
      if (checks.expectedSize !== undefined && size !== checks.expectedSize) {
        throw badRequest(`The parts hold ${size} bytes, not the announced ${checks.expectedSize}.`, 'size_mismatch');
      }
      const inPlace = chosen.every((p, i) => !p.file && p.partNumber === i + 1 && (i === chosen.length - 1 || p.size === partSize));
      const release = inPlace ? await claimData(dir) : null;
      try {
        // Copying (and hashing the copy) is safe whatever writes still reach `data`; renaming it needs the claim.
        const info = await (release
          ? store.adopt(join(dir, 'data'), size, checks, (hashed) => writeFile(join(dir, ADOPTED), JSON.stringify(hashed), { mode: 0o600 }))
          : store.put(concat(chosen.map((p) => (p.file ? { file: p.file, start: 0, size: p.size } : { file: join(dir, 'data'), start: (p.partNumber - 1) * partSize!, size: p.size }))), checks));
        await checks.onStored?.(info);
        await rm(dir, { recursive: true, force: true });
        return info;
      } catch (err) {
        const gone = (err as NodeJS.ErrnoException).code === 'ENOENT' || (err instanceof AppError && err.status === 409);
        if (!gone) throw err;
        // `data` is gone: renamed into its content address by a complete that ran concurrently, or by one that was
        // killed before it could remove the staging folder. Its record answers for it; without one, it changed.
        const adopted = await recorded(dir);
        if (!adopted) throw changedWhileCompleting();
        verifyContent(adopted, checks);
        await checks.onStored?.(adopted);
        await rm(dir, { recursive: true, force: true });
        return adopted;
      } finally {
        await release?.();
      }
    },

    async abortMultipart(key, uploadId) {
      if (!UPLOAD_ID.test(uploadId)) return;
      try {
        await staged(key, uploadId);
      } catch {
        return;
      }
      await rm(dirOf(uploadId), { recursive: true, force: true });
    },

    /** Temp files and slot claims of part writes that were cut short (whole staged uploads expire through their owner's sweep). */
    async sweepStaging(olderThan) {
      let removed = 0;
      for (const upload of await readdir(stagingRoot).catch(() => [] as string[])) {
        if (!UPLOAD_ID.test(upload)) continue;
        for (const name of await readdir(join(stagingRoot, upload)).catch(() => [] as string[])) {
          if (!name.endsWith('.tmp') && !name.endsWith('.lock')) continue;
          const path = join(stagingRoot, upload, name);
          const s = await stat(path).catch(() => null);
          if (s && s.mtimeMs < olderThan.getTime() && (await unlink(path).then(() => true, () => false))) removed++;
        }
      }
      return removed;
    },
  };
}

/** Creates `path` exclusively: its remover, or null when it exists already. */
async function lock(path: string): Promise<(() => Promise<void>) | null> {
  try {
    await (await open(path, 'wx', 0o600)).close();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return null;
    throw err;
  }
  return () => unlink(path).catch(() => undefined);
}

const exists = (path: string) => stat(path).then(() => true, () => false);

export const uploadGone = () => notFound('The staged upload does not exist (completed, aborted or expired).');

const changedWhileCompleting = () => new AppError(409, 'conflict', 'The staged upload changed while it was being completed.');

const pad = (n: number) => String(n).padStart(5, '0');

/** What a record's name says: a part file `p<n>-<md5>[-<stamp>]`, or a slot marker `s<n>-<md5>-<size>[-<stamp>]`. */
interface PartRecord {
  name: string;
  partNumber: number;
  etag: string;
  stamp: string;
  /** A slot marker's part size (a part file's size is the file's). */
  slotSize?: number;
}

function recordNamed(name: string): PartRecord | null {
  const file = PART_FILE.exec(name);
  if (file) return { name, partNumber: Number(file[1]), etag: file[2], stamp: file[3] ?? '' };
  const slot = SLOT_MARK.exec(name);
  if (slot) return { name, partNumber: Number(slot[1]), etag: slot[2], stamp: slot[4] ?? '', slotSize: Number(slot[3]) };
  return null;
}

let lastMs = 0;

/**
 * An 18-character stamp that sorts as the order records were written in: milliseconds (never going back within
 * a process, base 36, 10 digits) then 8 random digits, so that writers in other processes sharing the folder
 * never tie.
 */
function stamp(): string {
  lastMs = Math.max(Date.now(), lastMs + 1);
  return lastMs.toString(36).padStart(10, '0') + randomBytes(5).readUIntBE(0, 5).toString(36).padStart(8, '0');
}

function checkPartNumber(n: number) {
  if (!Number.isInteger(n) || n < 1 || n > MAX_PART_NUMBER) throw badRequest(`partNumber must be an integer from 1 to ${MAX_PART_NUMBER}.`, 'invalid_part');
}

/** Normalises an ETag as S3 and clients spell it (quoted or not, any case). */
export function bareEtag(etag: string): string {
  return etag.trim().replace(/^W\//, '').replace(/^"|"$/g, '').toLowerCase();
}

/** The staged records of `parts`, in ascending part order; an unknown part or ETag is a 400. */
function choose(staged: Map<number, Staged[]>, parts: PartRef[]): Staged[] {
  if (!parts.length) throw badRequest('parts must list at least one part.', 'invalid_part');
  const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
  return sorted.map(({ partNumber, etag }, i) => {
    checkPartNumber(partNumber);
    if (i > 0 && sorted[i - 1].partNumber === partNumber) throw badRequest(`Part ${partNumber} is listed twice.`, 'invalid_part');
    const found = staged.get(partNumber)?.find((p) => p.etag === bareEtag(etag));
    if (!found) throw badRequest(`Part ${partNumber} with ETag ${etag} was not received.`, 'invalid_part');
    return found;
  });
}

async function* concat(ranges: { file: string; start: number; size: number }[]): AsyncIterable<Uint8Array> {
  for (const { file, start, size } of ranges) {
    if (!size) continue;
    try {
      for await (const chunk of createReadStream(file, { start, end: start + size - 1, highWaterMark: 1 << 20 })) yield chunk as Buffer;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw changedWhileCompleting();
      throw err;
    }
  }
}
