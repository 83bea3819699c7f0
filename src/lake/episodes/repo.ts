import { sql } from 'kysely';
import { notFound } from '../../core/errors.js';
import { windowTotal, type Page } from '../../core/pagination.js';
import { nowIso } from '../../core/time.js';
import type { LakeDb, NodesTable } from '../db.js';
import { jsonColumn } from '../described.js';
import { relocate } from '../nodes/move.js';
import { checkName, parseNodePath, prefixPaths } from '../nodes/paths.js';
import { ensureFolders, findEpisode, getLiveNode, lockTree, nodesAtPaths } from '../nodes/tree.js';
import { createLocked } from '../nodes/write.js';
import type { UpdateEpisode, UpsertEpisode } from './schemas.js';

export const episodeNotFound = (name: string) => notFound(`Episode "${name}" not found.`);

/** Upsert by name: creates the episode (201) in `folder` (the root by default), or updates the live one (200). */
export async function upsertEpisode(db: LakeDb, projectId: string, input: UpsertEpisode): Promise<{ row: NodesTable; created: boolean }> {
  checkName(input.name);
  const folder = input.folder === undefined ? undefined : parseNodePath(input.folder, 'folder');
  return db.transaction().execute(async (trx) => {
    await lockTree(trx, projectId);
    const existing = await findEpisode(trx, projectId, input.name);
    if (existing) return { row: await applyChanges(trx, existing, { ...input, name: undefined }, folder), created: false };
    const { node } = await createLocked(trx, projectId, { ...input, kind: 'episode', segments: [...(folder ?? []), input.name] });
    return { row: node, created: true };
  });
}

export async function updateEpisode(db: LakeDb, projectId: string, name: string, input: UpdateEpisode): Promise<NodesTable> {
  if (input.name !== undefined) checkName(input.name);
  const folder = input.folder === undefined ? undefined : parseNodePath(input.folder, 'folder');
  return db.transaction().execute(async (trx) => {
    await lockTree(trx, projectId);
    const existing = await findEpisode(trx, projectId, name);
    if (!existing) throw episodeNotFound(name);
    return applyChanges(trx, existing, input, folder);
  });
}

async function applyChanges(trx: LakeDb, episode: NodesTable, input: UpdateEpisode, folder: string[] | undefined): Promise<NodesTable> {
  const now = nowIso();
  let row = episode;
  if (folder !== undefined || (input.name !== undefined && input.name !== episode.name)) {
    const parent = folder === undefined
      ? episode.parent_id ? await getLiveNode(trx, episode.project_id, episode.parent_id) : null
      : await ensureFolders(trx, episode.project_id, folder, await nodesAtPaths(trx, episode.project_id, prefixPaths(folder)), now);
    row = await relocate(trx, row, parent, input.name ?? episode.name, now);
  }
  const fields: Partial<NodesTable> = {};
  if (input.description !== undefined) fields.description = input.description;
  if (input.status !== undefined) fields.status = input.status;
  if (input.tags !== undefined) fields.tags = JSON.stringify(input.tags);
  if (input.metadata !== undefined) fields.metadata = jsonColumn(input.metadata);
  if (Object.keys(fields).length) {
    fields.updated_at = now;
    await trx.updateTable('nodes').set(fields).where('id', '=', row.id).execute();
    row = { ...row, ...fields };
  }
  return row;
}

export async function getEpisode(db: LakeDb, projectId: string, name: string): Promise<NodesTable> {
  const row = await findEpisode(db, projectId, name);
  if (!row) throw episodeNotFound(name);
  return row;
}

/** Live episodes of a project, newest first, with the total in the same query. */
export async function listEpisodes(db: LakeDb, projectId: string, page: Page) {
  const live = db
    .selectFrom('nodes')
    .where('project_id', '=', projectId)
    .where('kind', '=', 'episode')
    .where('deleted_at', 'is', null);
  const rows = await live.selectAll().select(sql<number>`count(*) over()`.as('total')).orderBy('id', 'desc').limit(page.limit).offset(page.offset).execute();
  const total = await windowTotal(rows, page, async () => (await live.select(sql<number>`count(*)`.as('c')).executeTakeFirstOrThrow()).c);
  return { rows, total };
}
