import type { ExpressionBuilder } from 'kysely';
import { nowIso } from '../../core/time.js';
import type { LakeDb, LakeTables } from '../db.js';
import { subtreeRange } from './paths.js';
import { countChildren, getLiveNode, lockTree } from './tree.js';

/**
 * Soft-deletes a node and its subtree, and takes the deleted files and episodes out of every collection,
 * in one transaction. Answers how many nodes it deleted.
 */
export async function deleteSubtree(db: LakeDb, projectId: string, id: string): Promise<number> {
  return db.transaction().execute(async (trx) => {
    await lockTree(trx, projectId);
    const node = await getLiveNode(trx, projectId, id);
    const { from, to } = subtreeRange(node.path);
    const inSubtree = (eb: ExpressionBuilder<LakeTables, 'nodes'>) =>
      eb.and([
        eb('project_id', '=', projectId),
        eb.or([eb('id', '=', node.id), eb.and([eb('path', '>=', from), eb('path', '<', to)])]),
      ]);
    const now = nowIso();
    const result = await trx
      .updateTable('nodes')
      .set({ deleted_at: now })
      .where(inSubtree)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    await countChildren(trx, projectId, node.parent_id, -1);
    // Members only ever name live files and episodes, so every member in this subtree (deleted now or
    // before) can go; folders are never members, so the subtree as a whole can be matched.
    // The collections are touched first, in the order their own member writes use (collection row, then
    // member rows), so that a concurrent member removal cannot deadlock with this delete.
    const members = trx.selectFrom('nodes').select('id').where(inSubtree);
    await trx
      .updateTable('collections')
      .set({ updated_at: now })
      .where('id', 'in', trx.selectFrom('collection_members').select('collection_id').where('node_id', 'in', members))
      .execute();
    await trx.deleteFrom('collection_members').where('node_id', 'in', members).execute();
    return Number(result.numUpdatedRows);
  });
}
