import type { ScriptDb } from '../db.js';

/** The subset of `sha256s` that CouchDB attachments of stored revisions use (for `dreamlake gc`). */
export async function referencedAttachmentBlobs(db: ScriptDb, sha256s: string[]): Promise<Set<string>> {
  if (!sha256s.length) return new Set();
  const rows = await db.selectFrom('script_attachment_refs').select('sha256').distinct().where('sha256', 'in', sha256s).execute();
  return new Set(rows.map((r) => r.sha256));
}
