import { nowIso } from '../../core/time.js';
import { assertWritable } from '../access/policy.js';
import { writeDocuments, type ScriptContext } from '../context.js';
import type { ScriptDb } from '../db.js';
import { loadRevision, loadTrees, winnerColumns } from '../documents/commit.js';
import { keepHighWater, keepSeqFloor } from '../documents/high-water.js';
import type { DocumentRow } from '../documents/present.js';
import { ancestry, leavesOf, winnerOf, type RevNode } from '../documents/tree.js';
import type { ScriptKey } from '../keys/repo.js';
import { assertStillThere, type CouchDatabase } from './databases.js';
import { badRequest } from './errors.js';
import { findDocs } from './read.js';
import { validateRev } from './write.js';

// POST /{db}/_purge: leaf revisions removed for good, with every ancestor no other leaf shares, as CouchDB's
// purge does. A document left with no leaf is gone from both APIs (row, revisions, attachment references; the
// blobs are left to `dreamlake gc`). A purge is no change: it is in neither feed, and it is not replicated.

/** CouchDB's limits on one request (max_document_id_number, max_revisions_number). */
export const PURGE_MAX_DOCUMENTS = 100;
export const PURGE_MAX_REVISIONS = 1000;

/** Purges `{docid: [rev, …]}`; answers, per document asked for, the revisions purged (leaves of its tree only). */
export async function purgeDocs(sc: ScriptContext, key: ScriptKey, target: CouchDatabase, body: Record<string, unknown>): Promise<Record<string, string[]>> {
  assertWritable(key);
  const asked = new Map<string, string[]>();
  for (const [id, revs] of Object.entries(body)) {
    if (!Array.isArray(revs)) throw badRequest(`Revisions of ${id} must be a list of strings.`);
    asked.set(id, [...new Set(revs.map(validateRev))]);
  }
  if (asked.size > PURGE_MAX_DOCUMENTS) throw badRequest('Exceeded maximum number of documents.');
  if ([...asked.values()].reduce((n, revs) => n + revs.length, 0) > PURGE_MAX_REVISIONS) throw badRequest('Exceeded maximum number of revisions.');
  const purged: Record<string, string[]> = Object.fromEntries([...asked.keys()].map((id) => [id, []]));
  if (!asked.size) return purged;
  await writeDocuments(sc, async (trx) => {
    await assertStillThere(trx, target);
    const docs = await findDocs(trx, target.projectId, [...asked.keys()]);
    if (docs.size) {
      await keepHighWater(trx); // the newest IDs and seqs may go
      await keepSeqFloor(trx, target.projectId); // and with them the database's update_seq
    }
    const trees = await loadTrees(trx, [...docs.values()].map((d) => d.id));
    for (const [id, revs] of asked) {
      const row = docs.get(id);
      if (row) purged[id] = await purgeOne(trx, row, trees.get(row.id) ?? [], revs);
    }
    if (Object.values(purged).some((revs) => revs.length)) {
      await trx.updateTable('script_projects').set((eb) => ({ purge_seq: eb('purge_seq', '+', 1) })).where('id', '=', target.projectId).execute();
    }
  });
  return purged;
}

async function purgeOne(trx: ScriptDb, row: DocumentRow, tree: RevNode[], revs: string[]): Promise<string[]> {
  const leaves = leavesOf(tree);
  const gone = revs.filter((rev) => leaves.some((l) => l.rev === rev));
  if (!gone.length) return [];
  const left = leaves.filter((l) => !gone.includes(l.rev));
  if (!left.length) {
    await trx.deleteFrom('script_attachment_refs').where('document_id', '=', row.id).execute();
    await trx.deleteFrom('script_revisions').where('document_id', '=', row.id).execute();
    await trx.deleteFrom('script_documents').where('id', '=', row.id).execute();
    return gone;
  }
  // What stays: the paths from the leaves left up to the root.
  const byRev = new Map(tree.map((n) => [n.rev, n]));
  const kept = new Set(left.flatMap((leaf) => ancestry(byRev, leaf.rev)));
  const drop = tree.map((n) => n.rev).filter((rev) => !kept.has(rev));
  await trx.deleteFrom('script_attachment_refs').where('document_id', '=', row.id).where('rev', 'in', drop).execute();
  await trx.deleteFrom('script_revisions').where('document_id', '=', row.id).where('rev', 'in', drop).execute();
  const winner = winnerOf(left);
  const stored = winner.rev === row.rev ? null : await loadRevision(trx, row.id, winner.rev);
  if (winner.rev !== row.rev && !stored) throw new Error(`Document ${row.id}: its winning revision ${winner.rev} is not stored.`);
  const set = stored ? winnerColumns(stored, row.project_id, left.length - 1, nowIso()) : { branches: left.length - 1, updated_at: nowIso() };
  await trx.updateTable('script_documents').set(set).where('id', '=', row.id).execute();
  return gone;
}
