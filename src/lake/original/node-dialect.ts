import { parseJson } from '../../core/db/dialect.js';
import type { LakeDb, NodesTable, ProjectsTable } from '../db.js';
import { prefixPaths } from '../nodes/paths.js';
import { commaParentPath, nodePath, ROOT_COMMA_PATH } from './paths.js';

// Nodes as the original clients read them: one node model, presented in their dialect here and only here.

/** The first 16 hex digits of the sha256: the `hash` the original clients compute and send. */
export const clientHash = (sha256: string) => sha256.slice(0, 16);

export function presentOriginalNode(row: NodesTable, projectSlug: string, episodeNodeId: string | null) {
  const own = parseJson<Record<string, unknown> | null>(row.metadata, null) ?? {};
  const file = Number(row.leaf) === 1;
  return {
    id: row.id,
    name: row.name,
    path: commaParentPath(projectSlug, row.path),
    kind: row.kind,
    projectId: row.project_id,
    parentId: row.parent_id,
    episodeNodeId,
    ...(row.kind === 'episode' ? { nodePath: nodePath(projectSlug, row.path), status: row.status ?? 'running' } : {}),
    tags: parseJson<string[]>(row.tags, []),
    metadata: file
      ? { ...own, size: Number(row.size), hash: clientHash(row.sha256 ?? ''), sha256: row.sha256, contentType: row.content_type }
      : own,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** A project as the root node of its tree (its ID is the node ID the original clients use for it). */
export function presentProjectRoot(project: ProjectsTable) {
  return {
    id: project.id,
    name: project.slug,
    path: ROOT_COMMA_PATH,
    kind: 'project',
    projectId: project.id,
    parentId: null,
    episodeNodeId: null,
    tags: parseJson<string[]>(project.tags, []),
    metadata: {},
    createdAt: project.created_at,
    updatedAt: project.updated_at,
  };
}

/**
 * The episode each node lies in (the nearest episode among itself and its ancestors), by node ID, in one
 * query per page of nodes.
 */
export async function episodeIdsOf(db: LakeDb, projectId: string, rows: NodesTable[]): Promise<Map<string, string | null>> {
  const chains = new Map(rows.map((r) => [r.id, prefixPaths(r.path.slice(1).split('/'))]));
  const paths = [...new Set([...chains.values()].flat())];
  const episodes = new Map<string, string>();
  for (let i = 0; i < paths.length; i += 5000) {
    const found = await db
      .selectFrom('nodes')
      .select(['id', 'path'])
      .where('project_id', '=', projectId)
      .where('kind', '=', 'episode')
      .where('path', 'in', paths.slice(i, i + 5000))
      .where('deleted_at', 'is', null)
      .execute();
    for (const e of found) episodes.set(e.path, e.id);
  }
  const out = new Map<string, string | null>();
  for (const [id, chain] of chains) {
    const nearest = chain.reverse().find((p) => episodes.has(p));
    out.set(id, nearest === undefined ? null : episodes.get(nearest)!);
  }
  return out;
}

/** Nodes of one project in the original dialect, with their episodes looked up together. */
export async function presentOriginalNodes(db: LakeDb, project: ProjectsTable, rows: NodesTable[]) {
  if (!rows.length) return [];
  const episodes = await episodeIdsOf(db, project.id, rows);
  return rows.map((r) => presentOriginalNode(r, project.slug, episodes.get(r.id) ?? null));
}
