import type { BlobInfo, BlobStore, PartRef } from '../../core/blobs/store.js';
import { runExclusively } from '../../core/db/exclusive.js';
import { AppError, badRequest, notFound } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { nowIso } from '../../core/time.js';
import type { LakeDb } from '../db.js';
import { prefixRange, uploadDb, type LakeUploadsTable } from './uploads-db.js';

// Staged multipart uploads: the rows that tie a store's staged upload to its uploader and announced hash.
// Every lookup is by uploader: another user's uploadId answers 404, like a missing one.

export const uploadNotFound = () => notFound('Upload not found (unknown, aborted or expired).');

export interface StartUpload {
  uploaderId: string;
  hash: string;
  contentType: string;
  owner: string;
  project: string;
  expirySeconds: number;
  /** The part size clients are told (the store may lay parts out by it). */
  partSize: number;
}

/**
 * A staged upload for (uploader, hash): the live one already begun (neither completed nor expired), so that a
 * client that lost its state resumes instead of starting over; otherwise a new one.
 */
export async function startUpload(db: LakeDb, blobs: BlobStore, start: StartUpload): Promise<{ row: LakeUploadsTable; created: boolean }> {
  // One start per (uploader, hash) at a time, across servers: two at once would each find no live upload and open two.
  return runExclusively(db, `lake.upload-start:${start.uploaderId}:${start.hash}`, () => findOrStart(db, blobs, start));
}

async function findOrStart(db: LakeDb, blobs: BlobStore, start: StartUpload): Promise<{ row: LakeUploadsTable; created: boolean }> {
  const udb = uploadDb(db);
  const now = nowIso();
  const live = await udb
    .selectFrom('lake_uploads')
    .selectAll()
    .where('uploader_id', '=', start.uploaderId)
    .where('hash', '=', start.hash)
    .where('completed_at', 'is', null)
    .where('expires_at', '>', now)
    .orderBy('id', 'desc')
    .executeTakeFirst();
  if (live) return { row: live, created: false };
  const id = newId();
  const key = `uploads/${start.uploaderId}/${id}`;
  const storeUploadId = await blobs.createMultipart(key, start.contentType, { partSize: start.partSize });
  const row: LakeUploadsTable = {
    id,
    uploader_id: start.uploaderId,
    hash: start.hash,
    key,
    store_upload_id: storeUploadId,
    content_type: start.contentType,
    owner: start.owner,
    project: start.project,
    created_at: now,
    expires_at: new Date(Date.now() + start.expirySeconds * 1000).toISOString(),
    completed_at: null,
    sha256: null,
    size: null,
  };
  try {
    await udb.insertInto('lake_uploads').values(row).execute();
  } catch (err) {
    await blobs.abortMultipart(key, storeUploadId).catch(() => undefined);
    throw err;
  }
  return { row, created: true };
}

/** The caller's upload named by (uploadId, key); 404 for anything else. */
export async function getUpload(db: LakeDb, uploaderId: string, uploadId: string, key: string): Promise<LakeUploadsTable> {
  const row = await findUpload(db, uploadId);
  if (!row || row.uploader_id !== uploaderId || row.key !== key) throw uploadNotFound();
  return row;
}

export async function findUpload(db: LakeDb, uploadId: string): Promise<LakeUploadsTable | undefined> {
  return uploadDb(db).selectFrom('lake_uploads').selectAll().where('id', '=', uploadId).executeTakeFirst();
}

export const isExpired = (row: LakeUploadsTable, now = nowIso()) => row.expires_at <= now;

/** Still accepting parts: neither completed nor expired. */
export function ensureOpen(row: LakeUploadsTable): void {
  if (row.completed_at !== null) throw new AppError(409, 'upload_completed', 'This upload is already completed; start a new one.');
  if (isExpired(row)) throw uploadNotFound();
}

/**
 * Assembles the parts, checking the announced hash prefix, the size (when given) and the size limit; marks the
 * upload completed with what the server computed. Completing a completed upload again answers the same result.
 */
export async function completeUpload(
  db: LakeDb,
  blobs: BlobStore,
  row: LakeUploadsTable,
  parts: PartRef[],
  checks: { expectedSize?: number; maxBytes: number },
): Promise<BlobInfo> {
  // One complete of an upload at a time, across servers: a second one (a client's retry sent to another replica)
  // waits and answers the first one's result, instead of assembling the parts again while the first one verifies
  // them (an object store may re-assemble a completed upload from other parts).
  return runExclusively(db, `lake.upload:${row.id}`, async () => {
    const current = await findUpload(db, row.id); // as the previous holder left it
    if (!current) throw uploadNotFound(); // aborted meanwhile
    return completeOnce(db, blobs, current, parts, checks);
  });
}

async function completeOnce(
  db: LakeDb,
  blobs: BlobStore,
  row: LakeUploadsTable,
  parts: PartRef[],
  checks: { expectedSize?: number; maxBytes: number },
): Promise<BlobInfo> {
  if (row.completed_at !== null && row.sha256 !== null) {
    if (checks.expectedSize !== undefined && checks.expectedSize !== Number(row.size)) throw sizeMismatch(Number(row.size), checks.expectedSize);
    return { sha256: row.sha256, size: Number(row.size) };
  }
  if (isExpired(row)) throw uploadNotFound();
  let info: BlobInfo;
  try {
    info = await blobs.completeMultipart(row.key, row.store_upload_id, parts, {
      expectedSha256Prefix: row.hash,
      expectedSize: checks.expectedSize,
      maxBytes: checks.maxBytes,
      // Recorded before the store clears the staged upload away: a crash in between must not leave an upload
      // that is neither completed nor completable (its client would have to send every part again).
      onStored: async (stored) => {
        await uploadDb(db)
          .updateTable('lake_uploads')
          .set({ completed_at: nowIso(), sha256: stored.sha256, size: stored.size })
          .where('id', '=', row.id)
          .execute();
      },
    });
  } catch (err) {
    // A concurrent complete of the same upload may have won the race: answer its result.
    const now = await findUpload(db, row.id);
    if (now?.completed_at && now.sha256 !== null) return { sha256: now.sha256, size: Number(now.size) };
    // Every staged part was used and they do not add up to the announced content: they never will. Discard them,
    // so that parts-done no longer offers them and the client starts over (the original CLI would otherwise
    // retry this complete until the upload expires). A complete that left parts out keeps the upload.
    if (err instanceof AppError && err.code === 'checksum_mismatch' && (await usedEveryPart(blobs, row, parts))) {
      await abortUpload(db, blobs, row);
      throw new AppError(400, err.code, `${err.message} The staged upload was discarded; start a new one.`);
    }
    throw err;
  }
  return info;
}

async function usedEveryPart(blobs: BlobStore, row: LakeUploadsTable, parts: PartRef[]): Promise<boolean> {
  const used = new Set(parts.map((p) => p.partNumber));
  const staged = await blobs.listParts(row.key, row.store_upload_id).catch(() => []);
  return staged.every((p) => used.has(p.partNumber));
}

export const sizeMismatch = (actual: number, announced: number) =>
  badRequest(`The uploaded content has ${actual} bytes, not the announced ${announced}.`, 'size_mismatch');

/** Discards the staged parts and forgets the upload. */
export async function abortUpload(db: LakeDb, blobs: BlobStore, row: LakeUploadsTable): Promise<void> {
  if (row.completed_at === null) await blobs.abortMultipart(row.key, row.store_upload_id);
  await uploadDb(db).deleteFrom('lake_uploads').where('id', '=', row.id).execute();
}

/** The uploader's newest completed upload whose content starts with `hash` (how `POST /files` finds its bytes). */
export async function findCompletedUpload(db: LakeDb, uploaderId: string, hash: string): Promise<LakeUploadsTable | undefined> {
  const [low, high] = prefixRange(hash);
  return uploadDb(db)
    .selectFrom('lake_uploads')
    .selectAll()
    .where('uploader_id', '=', uploaderId)
    .where('sha256', '>=', low)
    .where('sha256', '<=', high)
    .orderBy('id', 'desc')
    .executeTakeFirst();
}

/**
 * Discards staged uploads past their expiry (their parts in the store, then the row). Completed rows go too:
 * their content lives on in the blob store, referenced by what was registered from it. Answers how many.
 */
export async function sweepExpiredUploads(db: LakeDb, blobs: BlobStore, now = new Date()): Promise<number> {
  const udb = uploadDb(db);
  const expired = await udb.selectFrom('lake_uploads').selectAll().where('expires_at', '<=', now.toISOString()).limit(1000).execute();
  for (const row of expired) {
    // A completed upload's staging is normally gone; what a crash after its completion left is swept here too.
    await blobs.abortMultipart(row.key, row.store_upload_id);
    await udb.deleteFrom('lake_uploads').where('id', '=', row.id).execute();
  }
  return expired.length + (expired.length === 1000 ? await sweepExpiredUploads(db, blobs, now) : 0);
}
