import type { LakeDb } from '../db.js';

/**
 * The subset of `sha256s` that live files still point at (for `dreamlake gc`). Files of a deleted project
 * or namespace answer 404 everywhere, so they keep nothing alive.
 */
export async function referencedBlobs(db: LakeDb, sha256s: string[]): Promise<Set<string>> {
  if (!sha256s.length) return new Set();
  const rows = await db
    .selectFrom('nodes as n')
    .innerJoin('projects as p', 'p.id', 'n.project_id')
    .innerJoin('namespaces as ns', 'ns.id', 'p.namespace_id')
    .select('n.sha256')
    .distinct()
    .where('n.sha256', 'in', sha256s)
    .where('n.deleted_at', 'is', null)
    .where('p.deleted_at', 'is', null)
    .where('ns.deleted_at', 'is', null)
    .execute();
  return new Set(rows.map((r) => r.sha256 as string));
}
