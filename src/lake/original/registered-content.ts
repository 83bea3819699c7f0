import type { LakeDb } from '../db.js';
import { hashPrefix, prefixRange, uploadDb } from './uploads-db.js';

export interface RegisteredContent {
  sha256: string;
  size: number;
  contentType: string;
}

/**
 * The stored content a client registered with `POST /files`: by `bssId` (the `id` that answered, for that
 * uploader only), else (no bssId, or none found) the uploader's newest registered file whose sha256 starts with `hash` (the 16 hex digits
 * the original clients send). Other users' files are never found: a bssId is not a capability.
 */
export async function findRegisteredContent(
  db: LakeDb,
  userId: string,
  ref: { bssId?: string; hash?: string },
): Promise<RegisteredContent | undefined> {
  const files = uploadDb(db)
    .selectFrom('bss_files')
    .select(['sha256', 'size', 'content_type'])
    .where('uploader_id', '=', userId);
  let row = ref.bssId ? await files.where('id', '=', ref.bssId).executeTakeFirst() : undefined;
  const prefix = hashPrefix(ref.hash);
  if (!row && prefix) {
    const [low, high] = prefixRange(prefix);
    row = await files.where('sha256', '>=', low).where('sha256', '<=', high).orderBy('id', 'desc').limit(1).executeTakeFirst();
  }
  return row && { sha256: row.sha256, size: Number(row.size), contentType: row.content_type };
}
