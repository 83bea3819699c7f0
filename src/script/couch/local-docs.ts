import { sql } from 'kysely';
import { relaxedCommitReturning } from '../../core/db/dialect.js';
import type { ScriptDb } from '../db.js';
import { missing, updateConflict } from './errors.js';

// _local documents: replication checkpoints, never replicated and not in _changes. Their revs count up
// ("0-1", "0-2", …). A write is one statement: it has no sequence number to keep in order, so it does not
// queue behind document writes (serializeWrites), and the rev check and the write cannot be split by another
// writer. A checkpoint lost to a database crash only makes a replicator look again at changes it already
// has, so on PostgreSQL it commits without waiting for the WAL flush (relaxedCommitReturning).

export async function readLocalDoc(db: ScriptDb, projectId: number, id: string): Promise<Record<string, unknown>> {
  const row = await db.selectFrom('script_local_docs').select(['rev', 'body']).where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst();
  if (!row) throw missing();
  return { ...(JSON.parse(row.body) as object), _id: `_local/${id}`, _rev: row.rev };
}

/**
 * Writes `_local/{id}`; answers its new rev. `rev` must be the current one; without it the document is
 * created, or overwritten. "0-0" names a document that does not exist yet.
 */
export async function writeLocalDoc(db: ScriptDb, projectId: number, id: string, rev: string | undefined, fields: Record<string, unknown>): Promise<string> {
  const body = JSON.stringify(fields);
  const next = sql<string>`'0-' || (cast(substr(script_local_docs.rev, 3) as integer) + 1)`;
  const returning = ['rev' as const, ...relaxedCommitReturning(db)];
  const written =
    rev !== undefined && rev !== '0-0'
      ? await db
          .updateTable('script_local_docs')
          .set({ rev: next, body })
          .where('project_id', '=', projectId)
          .where('id', '=', id)
          .where('rev', '=', rev)
          .returning(returning)
          .executeTakeFirst()
      : await db
          .insertInto('script_local_docs')
          .values({ project_id: projectId, id, rev: '0-1', body })
          .onConflict((oc) => (rev === undefined ? oc.columns(['project_id', 'id']).doUpdateSet({ rev: next, body }) : oc.doNothing()))
          .returning(returning)
          .executeTakeFirst();
  if (!written) throw updateConflict();
  return written.rev;
}

export async function deleteLocalDoc(db: ScriptDb, projectId: number, id: string): Promise<void> {
  const result = await db.deleteFrom('script_local_docs').where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst();
  if (result.numDeletedRows === 0n) throw missing();
}
