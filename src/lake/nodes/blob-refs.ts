import type { LakeDb } from '../db.js';
import { uploadDb } from '../original/uploads-db.js';

/**
 * The subset of `sha256s` that something still points at (for `dreamlake gc`): live files, files registered
 * through the blob service (`POST /files`), and completed uploads not yet expired (registered or not). Files
 * of a deleted project or namespace answer 404 everywhere, so they keep nothing alive.
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
  const found = new Set(rows.map((r) => r.sha256 as string));
  const rest = sha256s.filter((s) => !found.has(s));
  if (rest.length) {
    const udb = uploadDb(db);
    const registered = await udb.selectFrom('bss_files').select('sha256').distinct().where('sha256', 'in', rest).execute();
    for (const r of registered) found.add(r.sha256);
    const staged = await udb
      .selectFrom('lake_uploads')
      .select('sha256')
      .distinct()
      .where('sha256', 'in', rest)
      .where('expires_at', '>', new Date().toISOString())
      .execute();
    for (const r of staged) if (r.sha256) found.add(r.sha256);
  }
  return found;
}
