import { AppError } from '../../core/errors.js';
import type { LakeDb } from '../db.js';
import { findInvalidMembers } from '../nodes/membership.js';
import { chunks } from './sql.js';

const SHOWN = 50;

/** 400 naming the member IDs that are not files of the project (the first 50 of them). */
export function invalidMembers(ids: string[]): AppError {
  const shown = ids.slice(0, SHOWN).map((id) => JSON.stringify(id.length > 140 ? `${id.slice(0, 137)}...` : id));
  const more = ids.length > SHOWN ? ` and ${ids.length - SHOWN} more` : '';
  return new AppError(400, 'invalid_members', `Unknown or invalid member IDs (not files or episodes of this project): ${shown.join(', ')}${more}.`);
}

/** Throws the 400 when any ID is not a live file or episode of the project; call inside the writing transaction. */
export async function checkMembers(trx: LakeDb, projectId: string, ids: string[]): Promise<void> {
  if (!ids.length) return;
  const invalid = await findInvalidMembers(trx, projectId, ids);
  if (invalid.length) throw invalidMembers(invalid);
}

/** Appends IDs at positions base, base+1, …; IDs already present are skipped. Returns how many were added. */
export async function insertMembers(trx: LakeDb, collectionId: string, ids: string[], base: number): Promise<number> {
  let added = 0;
  let offset = 0;
  for (const chunk of chunks(ids)) {
    const values = chunk.map((node_id, i) => ({ collection_id: collectionId, node_id, position: base + offset + i }));
    offset += chunk.length;
    const result = await trx.insertInto('collection_members').values(values).onConflict((oc) => oc.doNothing()).executeTakeFirst();
    added += Number(result.numInsertedOrUpdatedRows ?? 0);
  }
  return added;
}
