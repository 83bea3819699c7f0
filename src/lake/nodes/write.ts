import type { BlobInfo } from '../../core/blobs/store.js';
import { conflict, notFound } from '../../core/errors.js';
import { nowIso } from '../../core/time.js';
import type { LakeDb, NodesTable } from '../db.js';
import { checkWritePreconditions, type WritePreconditions } from './conditional.js';
import { checkName, checkPathLimits, joinPath, parseNodePath, prefixPaths } from './paths.js';
import { checkNoFileOnTheWay, ensureFolders, episodeNameTaken, findEpisode, insertNode, lockTree, nodeRow, nodesAtPaths } from './tree.js';

const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));

export interface CreateInput {
  segments: string[];
  kind: 'folder' | 'episode';
  tags?: string[];
  metadata?: Record<string, unknown> | null;
  description?: string | null;
  status?: string;
}

/** mkdir -p: creates the node and its missing ancestors; an existing node of the same kind is answered as is. */
export async function createNode(db: LakeDb, projectId: string, input: CreateInput): Promise<{ node: NodesTable; created: boolean }> {
  return db.transaction().execute(async (trx) => {
    await lockTree(trx, projectId);
    return createLocked(trx, projectId, input);
  });
}

/** createNode inside a transaction that already holds the tree lock. */
export async function createLocked(trx: LakeDb, projectId: string, input: CreateInput): Promise<{ node: NodesTable; created: boolean }> {
  const path = joinPath(checkPathLimits(input.segments));
  const found = await nodesAtPaths(trx, projectId, prefixPaths(input.segments));
  checkNoFileOnTheWay(input.segments.slice(0, -1), found);
  const existing = found.get(path);
  if (existing) {
    if (existing.kind !== input.kind) throw conflict(`${path} already exists as a ${existing.kind}.`);
    return { node: existing, created: false };
  }
  const name = input.segments[input.segments.length - 1];
  if (input.kind === 'episode' && (await findEpisode(trx, projectId, name))) throw episodeNameTaken(name);
  const now = nowIso();
  const parent = await ensureFolders(trx, projectId, input.segments.slice(0, -1), found, now);
  const node = nodeRow(projectId, parent, name, input.kind, now, {
    tags: JSON.stringify(input.tags ?? []),
    metadata: json(input.metadata),
    ...(input.kind === 'episode' ? { description: input.description ?? null, status: input.status ?? 'running' } : {}),
  });
  await insertNode(trx, node);
  return { node, created: true };
}

export interface PutTarget {
  /** Path parts under the root, or under the episode's folder when `episode` is given. */
  segments: string[];
  episode?: string;
  /** Create the episode (at the project root) when it does not exist yet, under the same lock as the file. */
  createEpisode?: boolean;
  preconditions: WritePreconditions;
}

export interface PutPlan {
  segments: string[];
  found: Map<string, NodesTable>;
  existing: NodesTable | undefined;
}

/**
 * Where a file would go and what is there now; throws the 404/409/412 the PUT would end with. Run once
 * before the body is read (so a doomed upload is refused early) and again under the lock before writing.
 */
export async function planPut(db: LakeDb, projectId: string, target: PutTarget): Promise<PutPlan> {
  let segments = target.segments;
  if (target.episode !== undefined) {
    const episode = await findEpisode(db, projectId, target.episode);
    if (!episode) throw notFound(`Episode "${target.episode}" not found.`);
    segments = checkPathLimits([...parseNodePath(episode.path), ...segments], `the file path in episode "${target.episode}"`);
  }
  const found = await nodesAtPaths(db, projectId, prefixPaths(segments));
  checkNoFileOnTheWay(segments.slice(0, -1), found);
  const existing = found.get(joinPath(segments));
  if (existing && Number(existing.leaf) !== 1) throw conflict(`${existing.path} is a ${existing.kind}, not a file.`);
  checkWritePreconditions(target.preconditions, existing?.sha256 ?? null);
  return { segments, found, existing };
}

export interface FileContent extends BlobInfo {
  contentType: string;
  kind: string;
}

/** Creates the file node (and missing folders) or points the existing one at the new content, keeping its ID. */
export async function putFile(db: LakeDb, projectId: string, target: PutTarget, content: FileContent): Promise<{ node: NodesTable; created: boolean }> {
  return db.transaction().execute(async (trx) => {
    await lockTree(trx, projectId);
    if (target.episode !== undefined && target.createEpisode && !(await findEpisode(trx, projectId, target.episode))) {
      await createLocked(trx, projectId, { segments: [checkName(target.episode, 'episode')], kind: 'episode' });
    }
    const { segments, found, existing } = await planPut(trx, projectId, target);
    const now = nowIso();
    const fields = { size: content.size, sha256: content.sha256, content_type: content.contentType, kind: content.kind, updated_at: now };
    if (existing) {
      await trx.updateTable('nodes').set(fields).where('id', '=', existing.id).execute();
      return { node: { ...existing, ...fields }, created: false };
    }
    const parent = await ensureFolders(trx, projectId, segments.slice(0, -1), found, now);
    const node = nodeRow(projectId, parent, segments[segments.length - 1], content.kind, now, { ...fields, leaf: 1 });
    await insertNode(trx, node);
    return { node, created: true };
  });
}
