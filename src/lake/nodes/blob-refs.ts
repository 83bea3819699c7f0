import type { LakeDb } from '../db.js';

/** The subset of `sha256s` that live files still point at (for `dreamlake gc`). */
export async function referencedBlobs(db: LakeDb, sha256s: string[]): Promise<Set<string>> {
  if (!sha256s.length) return new Set();
  const rows = await db
    .selectFrom('nodes')
    .select('sha256')
    .distinct()
    .where('sha256', 'in', sha256s)
    .where('deleted_at', 'is', null)
    .execute();
  return new Set(rows.map((r) => r.sha256 as string));
}
