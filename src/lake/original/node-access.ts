import type { LakeDb } from '../db.js';
import { effectiveRole } from '../scope.js';

/** A live node of a live project in a live namespace, by ID alone (signed links: the signature is the access). */
export function readableNodeQuery(db: LakeDb, nodeId: string) {
  return db
    .selectFrom('nodes as n')
    .innerJoin('projects as p', 'p.id', 'n.project_id')
    .innerJoin('namespaces as ns', 'ns.id', 'p.namespace_id')
    .selectAll('n')
    .where('n.id', '=', nodeId)
    .where('n.deleted_at', 'is', null)
    .where('p.deleted_at', 'is', null)
    .where('ns.deleted_at', 'is', null);
}

/**
 * The node by ID if `userId` may read its project (effectiveRole: a member of its namespace, or any signed-in
 * user when the project is public); else undefined (a 404 to callers). One query: the role comes with the node.
 */
export async function findNodeForReader(db: LakeDb, userId: string, nodeId: string) {
  const row = await readableNodeQuery(db, nodeId)
    .leftJoin('namespace_members as m', (j) => j.onRef('m.namespace_id', '=', 'ns.id').on('m.user_id', '=', userId))
    .select(['m.role as memberRole', 'p.visibility as projectVisibility'])
    .executeTakeFirst();
  if (!row) return undefined;
  const { memberRole, projectVisibility, ...node } = row;
  return effectiveRole(memberRole, projectVisibility) ? node : undefined;
}
