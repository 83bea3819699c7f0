import type { Static } from '@sinclair/typebox';
import type { RawBuilder, SqlBool } from 'kysely';
import { insertRows } from '../../core/db/insert-rows.js';
import { badRequest } from '../../core/errors.js';
import type { SpaceKysely } from '../db.js';
import { requireRow, scoped, type Scope } from '../fields.js';
import { equals, type ListOptions } from '../filters.js';
import { StampCreate, StampCreateScoped, StampList, StampListScoped, StampNested, StampOut, StampPatch } from '../schemas.js';
import { applyList, type Repo } from './repo.js';

type StampRow = { stamp_id: number; document_id: number; stamp_type: string; pos_x: number; pos_y: number; rotation: number };

export function presentStamp(row: StampRow): Static<typeof StampOut> {
  return {
    stamp_id: row.stamp_id,
    document_id: row.document_id,
    stamp_type: row.stamp_type,
    pos_x: Number(row.pos_x),
    pos_y: Number(row.pos_y),
    rotation: Number(row.rotation),
  };
}

/** Document IDs per query: well below the limits on bound parameters (SQLite 32,766; PostgreSQL 65,535). */
const CHUNK = 10_000;

/**
 * The stamps of these documents, by document, in ID order: one query per 10,000 documents. (Naming the
 * IDs, rather than repeating the list's query as a subquery, lets PostgreSQL use the index.)
 */
export async function stampsOf(db: SpaceKysely, documentIds: (number | null)[], chunk = CHUNK) {
  const ids = [...new Set(documentIds.filter((id): id is number => id !== null))];
  const byDocument = new Map<number, Static<typeof StampOut>[]>();
  for (let start = 0; start < ids.length; start += chunk) {
    const rows = await db
      .selectFrom('space_stamps as st')
      .selectAll()
      .where('st.document_id', 'in', ids.slice(start, start + chunk))
      .orderBy('st.document_id')
      .orderBy('st.stamp_id')
      .execute();
    for (const row of rows) {
      const list = byDocument.get(row.document_id) ?? [];
      list.push(presentStamp(row));
      byDocument.set(row.document_id, list);
    }
  }
  return byDocument;
}

/**
 * Adds stamps to a document that is known to exist; answers their IDs in order. However many there are (a
 * document's `stamps` list has no limit of its own, only the body's): insertRows splits them under SQLite's
 * limit of bound parameters and sends PostgreSQL one array per column (its limit is 65,535 parameters).
 */
export async function insertStamps(trx: SpaceKysely, documentId: number, stamps: Static<typeof StampNested>[]) {
  if (stamps.length === 0) return [];
  const rows = await insertRows(
    trx,
    'space_stamps',
    stamps.map((s) => ({
      document_id: documentId,
      stamp_type: s.stamp_type,
      pos_x: s.pos_x,
      pos_y: s.pos_y,
      rotation: s.rotation ?? 0,
    })),
    'stamp_id',
  );
  return rows.map((r) => Number(r.stamp_id)).sort((a, b) => a - b);
}

async function list(db: SpaceKysely, conditions: RawBuilder<SqlBool>[], options: ListOptions) {
  const query = db.selectFrom('space_stamps as st').selectAll('st');
  const rows = await applyList(query, 'st.stamp_id', conditions, options).execute();
  return rows.map(presentStamp);
}

async function documentFor(trx: SpaceKysely, body: { document_id?: number }, scope: Scope | undefined) {
  const documentId = scoped(body, 'document_id', scope);
  if (documentId === undefined) throw badRequest('Missing required field: document_id.');
  if (!scope) await requireRow(trx, 'space_documents', 'document_id', documentId, 'Document');
  return documentId;
}

async function create(trx: SpaceKysely, body: Static<typeof StampCreateScoped>, scope: Scope | undefined) {
  const [id] = await insertStamps(trx, await documentFor(trx, body, scope), [body]);
  return id;
}

async function patch(trx: SpaceKysely, id: number, body: Static<typeof StampPatch>) {
  if (body.document_id !== undefined) await requireRow(trx, 'space_documents', 'document_id', body.document_id, 'Document');
  if (Object.keys(body).length === 0) return;
  await trx.updateTable('space_stamps').set(body).where('stamp_id', '=', id).execute();
}

export const stamps: Repo = {
  alias: 'st',
  filters: {
    stamp_id: equals('st.stamp_id'),
    document_id: equals('st.document_id'),
    stamp_type: equals('st.stamp_type', 'string'),
  },
  readOnly: ['stamp_id'],
  schemas: {
    out: StampOut,
    create: StampCreate,
    createScoped: StampCreateScoped,
    patch: StampPatch,
    bulk: StampList,
    bulkScoped: StampListScoped,
  },
  list,
  create,
  patch,
  async remove(trx, id) {
    await trx.deleteFrom('space_stamps').where('stamp_id', '=', id).execute();
  },
};
