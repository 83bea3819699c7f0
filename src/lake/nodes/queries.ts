import { sql } from 'kysely';
import { windowTotal, type Page } from '../../core/pagination.js';
import type { LakeDb, NodesTable } from '../db.js';
import type { ChildSort } from './schemas.js';
import { joinPath, subtreeRange } from './paths.js';
import { getLiveNode, nodeNotFound, notAFolder } from './tree.js';

export interface NodePage {
  rows: NodesTable[];
  total: number;
}

/** The rows of a page read with a window count, without its `total` column. */
function withoutTotal(rows: (NodesTable & { total: number | string })[]): NodesTable[] {
  return rows.map(({ total: _t, ...row }) => row);
}

export interface ChildOrder {
  sort: ChildSort;
  order: 'asc' | 'desc';
}

// Folders have no size: -1 sorts them below every file on both databases (NULL sorts first in SQLite, last in PostgreSQL).
const SORT_COLUMN = {
  name: sql`n.name`,
  kind: sql`n.kind`,
  size: sql`coalesce(n.size, -1)`,
  updatedAt: sql`n.updated_at`,
  createdAt: sql`n.created_at`,
};

/**
 * Children of a folder (the root when `parentId` is null), by default inner nodes first, then by name (byte
 * order), which an index serves; other orders sort the folder's children. One query: the total is the parent's
 * live-children count, kept by every tree write. Live children imply a live parent, so the parent is only looked
 * up when the page is empty.
 */
export async function listChildren(db: LakeDb, projectId: string, parentId: string | null, page: Page, order: ChildOrder): Promise<NodePage> {
  let query = db
    .selectFrom('nodes as n')
    .selectAll('n')
    .select(childCount(projectId, parentId).as('total'))
    .where('n.project_id', '=', projectId)
    .where('n.parent_id', parentId === null ? 'is' : '=', parentId)
    .where('n.deleted_at', 'is', null);
  const dir = order.order;
  // Names are unique among live siblings: the last term makes every order total, so pages never overlap.
  if (order.sort === 'folders') query = query.orderBy('n.leaf').orderBy('n.name', dir);
  else {
    query = query.orderBy(SORT_COLUMN[order.sort], dir);
    if (order.sort !== 'name') query = query.orderBy('n.name');
  }
  const rows = await query.limit(page.limit).offset(page.offset).execute();
  if (rows.length) return { rows: withoutTotal(rows as (NodesTable & { total: number })[]), total: Number(rows[0].total) };
  if (parentId === null) {
    const tree = await db.selectFrom('node_trees').select('root_count').where('project_id', '=', projectId).executeTakeFirst();
    return { rows: [], total: Number(tree?.root_count ?? 0) };
  }
  const parent = await getLiveNode(db, projectId, parentId);
  if (Number(parent.leaf) === 1) throw notAFolder(parent.path);
  return { rows: [], total: Number(parent.child_count) };
}

function childCount(projectId: string, parentId: string | null) {
  return parentId === null
    ? sql<number>`(select root_count from node_trees where project_id = ${projectId})`
    : sql<number>`(select child_count from nodes where id = ${parentId})`;
}

export async function lookupPath(db: LakeDb, projectId: string, segments: string[]): Promise<NodesTable> {
  const node = await db
    .selectFrom('nodes')
    .selectAll()
    .where('project_id', '=', projectId)
    .where('path', '=', joinPath(segments))
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  if (!node) throw nodeNotFound();
  return node;
}

export interface DescendantFilter {
  leavesOnly?: boolean;
  kind?: string;
  /** Only nodes whose path starts with this (a full path from the project root, e.g. `/ep/camera/fr`). */
  prefix?: string;
}

/** The subtree below a live node (not the node itself), in path order, with the total in the same query. */
export async function listDescendants(db: LakeDb, projectId: string, node: NodesTable, filter: DescendantFilter, page: Page): Promise<NodePage> {
  if (Number(node.leaf) === 1) throw notAFolder(node.path);
  return listBelow(db, projectId, node.path, filter, page);
}

/**
 * The live nodes below `basePath` (`''` = the project root: the whole tree), in path order, with the total
 * in the same query; the caller has checked that the base exists.
 */
export async function listBelow(db: LakeDb, projectId: string, basePath: string, filter: DescendantFilter, page: Page): Promise<NodePage> {
  const { from, to } = subtreeRange(basePath);
  const below = () => {
    let query = db
      .selectFrom('nodes')
      .where('project_id', '=', projectId)
      .where('path', '>=', from)
      .where('path', '<', to)
      .where('deleted_at', 'is', null);
    if (filter.leavesOnly) query = query.where('leaf', '=', 1);
    if (filter.kind) query = query.where('kind', '=', filter.kind);
    if (filter.prefix) query = query.where(sql`substr(path, 1, ${[...filter.prefix].length})`, '=', filter.prefix);
    return query;
  };
  const rows = await below().selectAll().select(sql<number>`count(*) over()`.as('total')).orderBy('path').limit(page.limit).offset(page.offset).execute();
  const total = await windowTotal(rows, page, async () => (await below().select(sql<number>`count(*)`.as('c')).executeTakeFirstOrThrow()).c);
  return { rows: withoutTotal(rows), total };
}
