import type { Kysely } from 'kysely';
import type { LakeDb, LakeTables } from '../db.js';

// The blob service's tables (migration 006), kept beside the original clients' routes that own them.

export interface LakeUploadsTable {
  id: string;
  uploader_id: string;
  /** Lower-case hex prefix (16…64 digits) of the sha256 the client announced at init. */
  hash: string;
  key: string;
  store_upload_id: string;
  content_type: string;
  owner: string;
  project: string;
  created_at: string;
  expires_at: string;
  completed_at: string | null;
  sha256: string | null;
  size: number | null;
}

export interface BssFilesTable {
  id: string;
  uploader_id: string;
  sha256: string;
  size: number;
  content_type: string;
  name: string;
  original_name: string | null;
  kind: string | null;
  owner: string | null;
  project: string | null;
  metadata: string | null;
  created_at: string;
}

export interface UploadTables extends LakeTables {
  lake_uploads: LakeUploadsTable;
  bss_files: BssFilesTable;
}

export type UploadDb = Kysely<UploadTables>;

export const uploadDb = (db: LakeDb) => db as unknown as UploadDb;

const HASH_PREFIX = /^[0-9a-f]{16,64}$/;

/** A lower-case hex sha256 prefix of 16 to 64 digits (as the original clients send), or undefined. */
export function hashPrefix(value: string | undefined): string | undefined {
  const lower = value?.trim().toLowerCase();
  return lower !== undefined && HASH_PREFIX.test(lower) ? lower : undefined;
}

/** The bounds of the sha256 values that start with `prefix`, for an index range scan (no LIKE). */
export function prefixRange(prefix: string): [string, string] {
  return [prefix.padEnd(64, '0'), prefix.padEnd(64, 'f')];
}
