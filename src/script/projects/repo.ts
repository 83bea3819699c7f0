import { conflict, notFound } from '../../core/errors.js';
import { nowIso } from '../../core/time.js';
import { writeTransaction, type ScriptDb } from '../db.js';
import type { ProjectRow } from './present.js';
import type { NewProject, ProjectPatch } from './schemas.js';

const COLUMNS = ['id', 'name', 'description', 'created_at', 'updated_at'] as const;

export const projectNotFound = (id: number) => notFound(`Project ${id} was not found.`);

/** Live projects with an ID above `after`, limited to `scope` unless it is null. */
export async function listProjects(db: ScriptDb, after: number, limit: number, scope: number[] | null): Promise<ProjectRow[]> {
  if (scope?.length === 0) return [];
  let query = db
    .selectFrom('script_projects')
    .select(COLUMNS)
    .where('deleted_at', 'is', null)
    .where('id', '>', after);
  if (scope) query = query.where('id', 'in', scope);
  return query.orderBy('id').limit(limit).execute();
}

export async function findProject(db: ScriptDb, id: number): Promise<ProjectRow> {
  const row = await db
    .selectFrom('script_projects')
    .select(COLUMNS)
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  if (!row) throw projectNotFound(id);
  return row;
}

export async function createProject(db: ScriptDb, input: NewProject): Promise<ProjectRow> {
  const now = nowIso();
  return writeTransaction(db, (trx) =>
    trx
      .insertInto('script_projects')
      .values({ name: input.name, description: input.description ?? null, created_at: now, updated_at: now })
      .returning(COLUMNS)
      .executeTakeFirstOrThrow(),
  );
}

export async function updateProject(db: ScriptDb, id: number, patch: ProjectPatch): Promise<ProjectRow> {
  const row = await writeTransaction(db, (trx) =>
    trx
      .updateTable('script_projects')
      .set({
        ...(patch.name !== undefined && { name: patch.name }),
        ...(patch.description !== undefined && { description: patch.description }),
        updated_at: nowIso(),
      })
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .returning(COLUMNS)
      .executeTakeFirst(),
  );
  if (!row) throw projectNotFound(id);
  return row;
}

/** Deletes an empty project (soft, so its ID is never handed out again); 409 while it holds documents. */
export async function deleteProject(db: ScriptDb, id: number): Promise<void> {
  await writeTransaction(db, async (trx) => {
    const project = await trx
      .selectFrom('script_projects as p')
      .select((eb) => [
        'p.id',
        eb
          .exists(
            eb
              .selectFrom('script_documents as d')
              .select('d.id')
              .whereRef('d.project_id', '=', 'p.id')
              .where('d.deleted', '=', 0),
          )
          .as('has_documents'),
      ])
      .where('p.id', '=', id)
      .where('p.deleted_at', 'is', null)
      .executeTakeFirst();
    if (!project) throw projectNotFound(id);
    if (project.has_documents) throw conflict(`Project ${id} still holds documents: delete or move them first.`);
    await trx.updateTable('script_projects').set({ deleted_at: nowIso() }).where('id', '=', id).execute();
  });
}
