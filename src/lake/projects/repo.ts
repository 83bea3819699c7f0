import { sql } from 'kysely';
import { uniqueOr } from '../../core/db/errors.js';
import { conflict } from '../../core/errors.js';
import type { Page } from '../../core/pagination.js';
import { nowIso } from '../../core/time.js';
import type { LakeDb, ProjectsTable } from '../db.js';
import { describedChanges, newDescribedColumns } from '../described.js';
import { slugFromName } from '../schemas.js';
import { effectiveRole, namespaceNotFound, projectNotFound } from '../scope.js';
import type { CreateProject, UpdateProject } from './schemas.js';

const slugTaken = (slug: string) => conflict(`Project slug "${slug}" already exists in this namespace.`);

export async function createProject(db: LakeDb, namespaceId: string, input: CreateProject): Promise<ProjectsTable> {
  const row: ProjectsTable = {
    ...newDescribedColumns(input),
    namespace_id: namespaceId,
    slug: input.slug ?? slugFromName(input.name),
    visibility: input.visibility ?? 'private',
  };
  const inserted = await db.insertInto('projects').values(row).onConflict((oc) => oc.doNothing()).executeTakeFirst();
  if (!inserted.numInsertedOrUpdatedRows) throw slugTaken(row.slug);
  return row;
}

/**
 * One query: tenancy check, the page and the total (window count). Members see every project; other
 * signed-in users see the public ones (effectiveRole). Only a page past the end, which has no rows to
 * carry the scope, costs a second query to tell "empty page" from "no such namespace".
 */
export async function listProjects(db: LakeDb, userId: string, slug: string, page: Page) {
  const rows = await db
    .selectFrom('namespaces as n')
    .leftJoin('namespace_members as m', (j) => j.onRef('m.namespace_id', '=', 'n.id').on('m.user_id', '=', userId))
    .leftJoin('projects as p', (j) => j.onRef('p.namespace_id', '=', 'n.id').on('p.deleted_at', 'is', null))
    .selectAll('p')
    .select(sql<number>`count(p.id) over()`.as('total'))
    .where('n.slug', '=', slug)
    .where('n.deleted_at', 'is', null)
    .where((eb) => eb.or([eb('m.role', 'is not', null), eb('p.visibility', '=', PUBLIC)]))
    .orderBy('p.id', 'desc')
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  if (!rows.length) return { rows: [], total: await countVisibleProjects(db, userId, slug) };
  return { rows: rows.filter((r) => r.id !== null) as ProjectsTable[], total: Number(rows[0].total) };
}

const PUBLIC = 'public';

/** How many projects of the namespace the caller sees; 404 when they see none and are no member. */
async function countVisibleProjects(db: LakeDb, userId: string, slug: string) {
  const r = await db
    .selectFrom('namespaces as n')
    .leftJoin('namespace_members as m', (j) => j.onRef('m.namespace_id', '=', 'n.id').on('m.user_id', '=', userId))
    .leftJoin('projects as p', (j) => j.onRef('p.namespace_id', '=', 'n.id').on('p.deleted_at', 'is', null))
    .select(['m.role', sql<number>`count(case when m.role is not null or p.visibility = ${PUBLIC} then p.id end)`.as('c')])
    .where('n.slug', '=', slug)
    .where('n.deleted_at', 'is', null)
    .groupBy('m.role')
    .executeTakeFirst();
  if (!r || (!effectiveRole(r.role, null) && Number(r.c) === 0)) throw namespaceNotFound();
  return Number(r.c);
}

export async function updateProject(db: LakeDb, project: ProjectsTable, input: UpdateProject): Promise<ProjectsTable> {
  const changes: Partial<ProjectsTable> = { ...describedChanges(input), updated_at: nowIso() };
  if (input.slug !== undefined) changes.slug = input.slug;
  if (input.visibility !== undefined) changes.visibility = input.visibility;
  const row = await uniqueOr(
    () => db.updateTable('projects').set(changes).where('id', '=', project.id).where('slug', '=', project.slug).where('deleted_at', 'is', null).returningAll().executeTakeFirst(),
    () => slugTaken(input.slug ?? project.slug),
  );
  if (!row) throw projectNotFound();
  return row;
}

/** Soft delete; 404 when a concurrent delete got there first (only one of them answers success). */
export async function deleteProject(db: LakeDb, project: ProjectsTable): Promise<void> {
  const result = await db.updateTable('projects').set({ deleted_at: nowIso() }).where('id', '=', project.id).where('deleted_at', 'is', null).executeTakeFirst();
  if (!result.numUpdatedRows) throw projectNotFound();
}

