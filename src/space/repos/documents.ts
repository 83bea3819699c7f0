import type { Static } from '@sinclair/typebox';
import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { SpaceKysely } from '../db.js';
import { base64Field } from '../fields.js';
import { after, before, custom, equals, type ListOptions } from '../filters.js';
import { DocumentCreate, DocumentOut, DocumentPatch } from '../schemas.js';
import { nowTimestamp, renderTimestamp } from '../time.js';
import { applyList, type Repo } from './repo.js';
import { insertStamps, stampsOf } from './stamps.js';

type DocumentRow = { document_id: number; document_data: string; seal: number; metadata: string | null; created_at: string };
type StampsByDocument = Awaited<ReturnType<typeof stampsOf>>;

export function presentDocument(row: DocumentRow, stamps: StampsByDocument): Static<typeof DocumentOut> {
  return {
    document_id: row.document_id,
    document_data: row.document_data,
    seal: Number(row.seal),
    created_at: renderTimestamp(row.created_at),
    metadata: row.metadata,
    stamps: stamps.get(row.document_id) ?? [],
  };
}

/** Creates a document and its stamps; the caller's transaction makes it all or nothing. */
export async function createDocument(trx: SpaceKysely, body: Static<typeof DocumentCreate>): Promise<number> {
  const row = await trx
    .insertInto('space_documents')
    .values({
      document_data: base64Field('document_data', body.document_data),
      seal: body.seal,
      metadata: body.metadata ?? null,
      created_at: nowTimestamp(),
    })
    .returning('document_id')
    .executeTakeFirstOrThrow();
  await insertStamps(trx, row.document_id, body.stamps ?? []);
  return row.document_id;
}

async function list(db: SpaceKysely, conditions: RawBuilder<SqlBool>[], options: ListOptions) {
  const query = db.selectFrom('space_documents as d').select(['d.document_id', 'd.document_data', 'd.seal', 'd.metadata', 'd.created_at']);
  const rows = await applyList(query, 'd.document_id', conditions, options).execute();
  // Stamps come in a second query for all the documents, rather than one per document.
  const stamps = await stampsOf(db, rows.map((r) => r.document_id));
  return rows.map((row) => presentDocument(row, stamps));
}

async function patch(trx: SpaceKysely, id: number, body: Static<typeof DocumentPatch>) {
  const { stamps, ...fields } = body;
  if (fields.document_data !== undefined) base64Field('document_data', fields.document_data);
  if (Object.keys(fields).length > 0) {
    await trx.updateTable('space_documents').set(fields).where('document_id', '=', id).execute();
  }
  if (stamps !== undefined) {
    await trx.deleteFrom('space_stamps').where('document_id', '=', id).execute();
    await insertStamps(trx, id, stamps);
  }
}

export const documents: Repo = {
  alias: 'd',
  // A document carries its image (up to 16 MiB of base64): a page of 16 stays within a few hundred MiB at worst.
  listPage: 16,
  filters: {
    document_id: equals('d.document_id'),
    seal: equals('d.seal'),
    metadata: equals('d.metadata', 'string'),
    created_after: after('d.created_at'),
    created_before: before('d.created_at'),
    stamp_type: custom(
      'string',
      (v) => sql<SqlBool>`exists (select 1 from space_stamps fs where fs.document_id = d.document_id and fs.stamp_type = ${v})`,
    ),
  },
  readOnly: ['document_id', 'created_at'],
  exclusiveFields: ['stamps'],
  schemas: { out: DocumentOut, create: DocumentCreate, createScoped: DocumentCreate, patch: DocumentPatch },
  list,
  create: (trx, body: Static<typeof DocumentCreate>) => createDocument(trx, body),
  patch,
  async remove(trx, id) {
    // Stamps go with the document (ON DELETE CASCADE); events that used it keep going, without it.
    await trx.deleteFrom('space_documents').where('document_id', '=', id).execute();
  },
};
