import { sql } from 'kysely';
import { badRequest, conflict } from '../../core/errors.js';
import { nowIso } from '../../core/time.js';
import type { LakeDb, NodesTable } from '../db.js';
import { checkName, depthOf, invalidPath, isWithin, MAX_DEPTH, MAX_PATH_BYTES, subtreeRange } from './paths.js';
import { countChildren, episodeNameTaken, findEpisode, findLiveNode, getLiveNode, lockTree, notAFolder } from './tree.js';

const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));

export interface NodeChanges {
  name?: string;
  /** null moves to the root; undefined keeps the parent. */
  parentId?: string | null;
  tags?: string[];
  metadata?: Record<string, unknown> | null;
}

/** PATCH of a node: rename and move (the paths of the whole subtree follow), tags, metadata. */
export async function updateNode(db: LakeDb, projectId: string, id: string, changes: NodeChanges): Promise<NodesTable> {
  if (changes.name !== undefined) checkName(changes.name);
  return db.transaction().execute(async (trx) => {
    await lockTree(trx, projectId);
    let node = await getLiveNode(trx, projectId, id);
    const now = nowIso();
    if (changes.name !== undefined || changes.parentId !== undefined) {
      const parent = changes.parentId === undefined ? await currentParent(trx, node) : await newParent(trx, projectId, changes.parentId);
      node = await relocate(trx, node, parent, changes.name ?? node.name, now);
    }
    const fields: Partial<NodesTable> = {};
    if (changes.tags !== undefined) fields.tags = JSON.stringify(changes.tags);
    if (changes.metadata !== undefined) fields.metadata = json(changes.metadata);
    if (Object.keys(fields).length) {
      fields.updated_at = now;
      await trx.updateTable('nodes').set(fields).where('id', '=', node.id).execute();
      node = { ...node, ...fields };
    }
    return node;
  });
}

async function currentParent(trx: LakeDb, node: NodesTable): Promise<NodesTable | null> {
  return node.parent_id ? getLiveNode(trx, node.project_id, node.parent_id) : null;
}

async function newParent(trx: LakeDb, projectId: string, parentId: string | null): Promise<NodesTable | null> {
  if (parentId === null) return null;
  const parent = await findLiveNode(trx, projectId, parentId);
  if (!parent) throw badRequest(`parentId ${parentId} is not a live folder of this project.`, 'invalid_parent');
  if (Number(parent.leaf) === 1) throw notAFolder(parent.path);
  return parent;
}

/**
 * 400 when the node's new path, or the path of a node below it (the paths of its subtree follow it), would be
 * deeper or longer than a path may be (paths.ts): every path in the tree stays one that a lookup accepts.
 */
async function checkLimitsAfterMove(trx: LakeDb, node: NodesTable, path: string): Promise<void> {
  let bytes = Buffer.byteLength(path);
  let depth = depthOf(path);
  const grows = bytes > Buffer.byteLength(node.path) || depth > depthOf(node.path);
  if (Number(node.leaf) !== 1 && grows) {
    const { from, to } = subtreeRange(node.path);
    const below = await trx
      .selectFrom('nodes')
      .select([sql<number | null>`max(octet_length(path))`.as('bytes'), sql<number | null>`max(length(path) - length(replace(path, '/', '')))`.as('depth')])
      .where('project_id', '=', node.project_id)
      .where('path', '>=', from)
      .where('path', '<', to)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    if (below?.bytes != null && below.depth != null) {
      bytes += Number(below.bytes) - Buffer.byteLength(node.path);
      depth += Number(below.depth) - depthOf(node.path);
    }
  }
  if (depth > MAX_DEPTH) throw invalidPath(`Too deep: this would put a path ${depth} levels deep (at most ${MAX_DEPTH}).`);
  if (bytes > MAX_PATH_BYTES) throw invalidPath(`Too long: this would make a path of ${bytes} bytes (at most ${MAX_PATH_BYTES}).`);
}

/**
 * Gives `node` a new parent and name under the tree lock, rewriting the paths of its subtree in one
 * statement. 400 when a folder would move under itself, 409 when the new path is taken.
 */
export async function relocate(trx: LakeDb, node: NodesTable, parent: NodesTable | null, name: string, now: string): Promise<NodesTable> {
  checkName(name);
  if (parent && isWithin(parent.path, node.path)) throw badRequest('A folder cannot move under itself.', 'invalid_move');
  const path = parent ? `${parent.path}/${name}` : `/${name}`;
  if (path === node.path) return node;
  await checkLimitsAfterMove(trx, node, path);
  const clash = await trx
    .selectFrom('nodes')
    .select('kind')
    .where('project_id', '=', node.project_id)
    .where('path', '=', path)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  if (clash) throw conflict(`${path} already exists (a ${clash.kind}).`);
  if (node.kind === 'episode' && name !== node.name && (await findEpisode(trx, node.project_id, name))) throw episodeNameTaken(name);
  const moved = { ...node, name, parent_id: parent?.id ?? null, path, updated_at: now };
  await trx.updateTable('nodes').set({ name, parent_id: moved.parent_id, path, updated_at: now }).where('id', '=', node.id).execute();
  if (moved.parent_id !== node.parent_id) {
    await countChildren(trx, node.project_id, node.parent_id, -1);
    await countChildren(trx, node.project_id, moved.parent_id, 1);
  }
  if (Number(node.leaf) !== 1) {
    const { from, to } = subtreeRange(node.path);
    await trx
      .updateTable('nodes')
      .set({ path: sql<string>`cast(${path} as text) || substr(path, length(cast(${node.path} as text)) + 1)` })
      .where('project_id', '=', node.project_id)
      .where('path', '>=', from)
      .where('path', '<', to)
      .where('deleted_at', 'is', null)
      .execute();
  }
  return moved;
}
