import { notFound } from '../../core/errors.js';
import type { ScriptDb } from '../db.js';
import type { DocumentRow } from './present.js';

export const DOCUMENT_COLUMNS = [
  'id',
  'project_id',
  'title',
  'content',
  'generation',
  'rev',
  'deleted',
  'created_at',
  'updated_at',
  'couch_id',
  'body',
  'attachments',
  'branches',
] as const;

/**
 * What a REST list presents (presentDocument): not a CouchDB document's body or attachments, which can be large
 * (measured: 200 documents with 1 MB bodies cost a REST page 200 MB of heap and 250 ms when their bodies were read).
 */
export const LIST_COLUMNS = ['id', 'project_id', 'title', 'content', 'rev', 'created_at', 'updated_at'] as const;
export type ListedDocument = Pick<DocumentRow, (typeof LIST_COLUMNS)[number]>;

export const documentNotFound = (id: number) => notFound(`Document ${id} was not found.`);

/** The document, tombstone included (callers decide what a deleted one means). */
export async function findDocument(db: ScriptDb, id: number): Promise<DocumentRow | undefined> {
  return db.selectFrom('script_documents').select(DOCUMENT_COLUMNS).where('id', '=', id).executeTakeFirst();
}

/** Live documents with an ID above `after`, limited to `scope` (project IDs) unless it is null. */
export async function listDocuments(db: ScriptDb, after: number, limit: number, scope: number[] | null): Promise<ListedDocument[]> {
  if (scope?.length === 0) return [];
  let query = db
    .selectFrom('script_documents')
    .select(LIST_COLUMNS)
    .where('deleted', '=', 0)
    .where('id', '>', after);
  if (scope) query = query.where('project_id', 'in', scope);
  return query.orderBy('id').limit(limit).execute();
}

/**
 * Live documents of one project, in one round trip: the project row is the left side of the join, so
 * no row at all means no such project, and a row without a document means an empty page.
 */
export async function listProjectDocuments(
  db: ScriptDb,
  projectId: number,
  after: number,
  limit: number,
): Promise<ListedDocument[] | undefined> {
  const rows = await db
    .selectFrom('script_projects as p')
    .leftJoin('script_documents as d', (join) =>
      join.onRef('d.project_id', '=', 'p.id').on('d.deleted', '=', 0).on('d.id', '>', after),
    )
    .select(LIST_COLUMNS.map((c) => `d.${c}` as const))
    .where('p.id', '=', projectId)
    .where('p.deleted_at', 'is', null)
    .orderBy('d.id')
    .limit(limit)
    .execute();
  if (rows.length === 0) return undefined;
  return rows.filter((row): row is ListedDocument => row.id !== null);
}

/** One revision, old or current, shaped as the document was then; undefined when there is no such one. */
export async function findRevision(db: ScriptDb, id: number, rev: string) {
  return db
    .selectFrom('script_revisions as r')
    .innerJoin('script_documents as d', 'd.id', 'r.document_id')
    .select([
      'r.document_id as id',
      'r.project_id',
      'r.title',
      'r.content',
      'r.rev',
      'r.deleted',
      'd.created_at',
      'r.created_at as updated_at',
      'd.project_id as current_project_id',
    ])
    .where('r.document_id', '=', id)
    .where('r.rev', '=', rev)
    .where('r.pruned', '=', 0)
    .executeTakeFirst();
}

/**
 * Revisions of a document stored after seq `after`, oldest first (in the order they were stored, a parent before
 * its children), in one round trip: the document row comes along for the scope check (no row at all: no such
 * document). Keyset by seq, which is unique: the generation is shared by branches, and paging by it skipped the
 * second revision of a generation at a page boundary.
 */
export async function listRevisions(db: ScriptDb, id: number, after: number, limit: number) {
  const rows = await db
    .selectFrom('script_documents as d')
    .leftJoin('script_revisions as r', (join) => join.onRef('r.document_id', '=', 'd.id').on('r.seq', '>', after))
    .select(['d.project_id', 'r.seq', 'r.rev', 'r.deleted', 'r.created_at'])
    .where('d.id', '=', id)
    .orderBy('r.seq')
    .limit(limit)
    .execute();
  if (rows.length === 0) return undefined;
  return {
    projectId: rows[0].project_id,
    revisions: rows.flatMap((r) =>
      r.seq === null || r.rev === null || r.created_at === null
        ? []
        : [{ seq: Number(r.seq), rev: r.rev, deleted: r.deleted === 1, createdAt: r.created_at }],
    ),
  };
}
