import { sql } from 'kysely';
import { AppError, conflict, notFound } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { LakeDb, NodesTable } from '../db.js';
import { joinPath, prefixPaths } from './paths.js';

// Building blocks shared by every write to the tree. Each write transaction calls lockTree first.

export const nodeNotFound = () => notFound('Node not found or deleted.');
export const notAFolder = (path: string) => new AppError(400, 'not_a_folder', `${path} is a file, not a folder or episode.`);
export const fileInTheWay = (path: string) => conflict(`${path} is a file, so it cannot hold other nodes.`);

/**
 * Takes the project's tree lock (a row lock held until commit). Tree writers of one project run one after
 * the other, so "look, then insert" is race-free: two identical mkdir -p both succeed with one node, and
 * a delete cannot miss a file that an upload is adding under the deleted folder.
 */
export async function lockTree(trx: LakeDb, projectId: string): Promise<void> {
  await trx
    .insertInto('node_trees')
    .values({ project_id: projectId, version: 1, root_count: 0 })
    .onConflict((oc) => oc.column('project_id').doUpdateSet({ version: sql`node_trees.version + 1` }))
    .execute();
}

export async function findLiveNode(db: LakeDb, projectId: string, id: string): Promise<NodesTable | undefined> {
  return db
    .selectFrom('nodes')
    .selectAll()
    .where('id', '=', id)
    .where('project_id', '=', projectId)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
}

export async function getLiveNode(db: LakeDb, projectId: string, id: string): Promise<NodesTable> {
  const node = await findLiveNode(db, projectId, id);
  if (!node) throw nodeNotFound();
  return node;
}

/** The live nodes at `paths`, by path, in one query. */
export async function nodesAtPaths(db: LakeDb, projectId: string, paths: string[]): Promise<Map<string, NodesTable>> {
  if (!paths.length) return new Map();
  const rows = await db
    .selectFrom('nodes')
    .selectAll()
    .where('project_id', '=', projectId)
    .where('path', 'in', paths)
    .where('deleted_at', 'is', null)
    .execute();
  return new Map(rows.map((r) => [r.path, r]));
}

export function nodeRow(projectId: string, parent: NodesTable | null, name: string, kind: string, now: string, fields: Partial<NodesTable> = {}): NodesTable {
  return {
    id: newId(),
    project_id: projectId,
    parent_id: parent?.id ?? null,
    name,
    path: parent ? `${parent.path}/${name}` : `/${name}`,
    kind,
    leaf: 0,
    tags: '[]',
    metadata: null,
    size: null,
    content_type: null,
    sha256: null,
    description: null,
    status: null,
    child_count: 0,
    created_at: now,
    updated_at: now,
    deleted_at: null,
    ...fields,
  };
}

/** Refuses a path that runs through a file (`/a.mp4/b`): only folders and episodes hold nodes. */
export function checkNoFileOnTheWay(segments: string[], found: Map<string, NodesTable>): void {
  for (const path of prefixPaths(segments)) {
    const node = found.get(path);
    if (node && Number(node.leaf) === 1) throw fileInTheWay(path);
  }
}

/** Keeps the live-children count of `parentId` (the project root when null) right: call under the tree lock. */
export async function countChildren(trx: LakeDb, projectId: string, parentId: string | null, delta: number): Promise<void> {
  if (delta === 0) return;
  if (parentId === null) {
    await trx.updateTable('node_trees').set({ root_count: sql`root_count + ${delta}` }).where('project_id', '=', projectId).execute();
  } else {
    await trx.updateTable('nodes').set({ child_count: sql`child_count + ${delta}` }).where('id', '=', parentId).execute();
  }
}

/** Inserts a new node under the tree lock and counts it in its parent. */
export async function insertNode(trx: LakeDb, node: NodesTable): Promise<void> {
  await trx.insertInto('nodes').values(node).execute();
  await countChildren(trx, node.project_id, node.parent_id, 1);
}

/**
 * mkdir -p under the tree lock: creates the folders of `segments` that `found` (the live nodes on the way)
 * lacks, in one insert, and answers the deepest one (null for the root).
 */
export async function ensureFolders(trx: LakeDb, projectId: string, segments: string[], found: Map<string, NodesTable>, now: string): Promise<NodesTable | null> {
  checkNoFileOnTheWay(segments, found);
  let parent: NodesTable | null = null;
  const created: NodesTable[] = [];
  for (let i = 0; i < segments.length; i++) {
    const existing = found.get(joinPath(segments.slice(0, i + 1)));
    parent = existing ?? nodeRow(projectId, parent, segments[i], 'folder', now);
    if (!existing) created.push(parent);
  }
  if (created.length) {
    // Missing folders form one chain: each holds the next, the first is counted in its existing parent.
    for (let i = 0; i < created.length - 1; i++) created[i].child_count = 1;
    await trx.insertInto('nodes').values(created).execute();
    await countChildren(trx, projectId, created[0].parent_id, 1);
  }
  return parent;
}

/** Episode names are unique in a project, wherever the episode sits in the tree. */
export async function findEpisode(db: LakeDb, projectId: string, name: string): Promise<NodesTable | undefined> {
  return db
    .selectFrom('nodes')
    .selectAll()
    .where('project_id', '=', projectId)
    .where('kind', '=', 'episode')
    .where('name', '=', name)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
}

export const episodeNameTaken = (name: string) => conflict(`An episode named "${name}" already exists in this project.`);
