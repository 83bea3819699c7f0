import { sql } from 'kysely';
import { uniqueOr } from '../../core/db/errors.js';
import { conflict } from '../../core/errors.js';
import type { Page } from '../../core/pagination.js';
import { nowIso } from '../../core/time.js';
import type { LakeDb, ProjectsTable } from '../db.js';
import { describedChanges, newDescribedColumns } from '../described.js';
import { slugFromName } from '../schemas.js';
import { projectNotFound, resolveNamespace } from '../scope.js';
import type { CreateProject, UpdateProject } from './schemas.js';

const slugTaken = (slug: string) => conflict(`Project slug "${slug}" already exists in this namespace.`);

export async function createProject(db: LakeDb, namespaceId: string, input: CreateProject): Promise<ProjectsTable> {
  const row: ProjectsTable = {
    ...newDescribedColumns(input),
    namespace_id: namespaceId,
    slug: input.slug ?? slugFromName(input.name),
  };
  const inserted = await db.insertInto('projects').values(row).onConflict((oc) => oc.doNothing()).executeTakeFirst();
  if (!inserted.numInsertedOrUpdatedRows) throw slugTaken(row.slug);
  return row;
}

/**
 * One query: membership check, the page and the total (window count). Only a page past the end, which
 * has no rows to carry the scope, costs a second query to tell "empty page" from "no such namespace".
 */
export async function listProjects(db: LakeDb, userId: string, slug: string, page: Page) {
  const rows = await db
    .selectFrom('namespaces as n')
    .innerJoin('namespace_members as m', (j) => j.onRef('m.namespace_id', '=', 'n.id').on('m.user_id', '=', userId))
    .leftJoin('projects as p', (j) => j.onRef('p.namespace_id', '=', 'n.id').on('p.deleted_at', 'is', null))
    .selectAll('p')
    .select(sql<number>`count(p.id) over()`.as('total'))
    .where('n.slug', '=', slug)
    .where('n.deleted_at', 'is', null)
    .orderBy('p.id', 'desc')
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  if (!rows.length) {
    await resolveNamespace(db, userId, slug);
    return { rows: [], total: await countProjects(db, slug) };
  }
  return { rows: rows.filter((r) => r.id !== null) as ProjectsTable[], total: Number(rows[0].total) };
}

async function countProjects(db: LakeDb, slug: string) {
  const r = await db
    .selectFrom('projects as p')
    .innerJoin('namespaces as n', 'n.id', 'p.namespace_id')
    .select(sql<number>`count(*)`.as('c'))
    .where('n.slug', '=', slug)
    .where('n.deleted_at', 'is', null)
    .where('p.deleted_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(r.c);
}

export async function updateProject(db: LakeDb, project: ProjectsTable, input: UpdateProject): Promise<ProjectsTable> {
  const changes: Partial<ProjectsTable> = { ...describedChanges(input), updated_at: nowIso() };
  if (input.slug !== undefined) changes.slug = input.slug;
  const row = await uniqueOr(
    () => db.updateTable('projects').set(changes).where('id', '=', project.id).where('deleted_at', 'is', null).returningAll().executeTakeFirst(),
    () => slugTaken(input.slug ?? project.slug),
  );
  if (!row) throw projectNotFound();
  return row;
}

export async function deleteProject(db: LakeDb, project: ProjectsTable): Promise<void> {
  await db.updateTable('projects').set({ deleted_at: nowIso() }).where('id', '=', project.id).execute();
}

