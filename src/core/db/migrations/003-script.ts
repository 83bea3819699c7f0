import type { Kysely } from 'kysely';
import { autoIdType, dialectOf } from '../dialect.js';

// Dreamscript database. IDs are int64 (bigserial / SQLite rowid) and never reused: nothing is ever hard
// deleted (projects are soft-deleted, documents keep a tombstone revision, revoked keys keep their row).
// script_documents holds the current state of each document; script_revisions is the append-only history,
// and its `seq` is also the position in the changes feed. Booleans are 0/1 integers in both dialects.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  const id = autoIdType(dialectOf(db));

  await db.schema
    .createTable('script_projects')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('deleted_at', 'text')
    .execute();

  await db.schema
    .createTable('script_documents')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('project_id', 'bigint', (c) => c.references('script_projects.id'))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('content', 'text')
    .addColumn('generation', 'integer', (c) => c.notNull())
    .addColumn('rev', 'text', (c) => c.notNull())
    .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('script_documents_project').on('script_documents').columns(['project_id', 'id']).execute();

  await db.schema
    .createTable('script_revisions')
    .addColumn('seq', id, (c) => c.primaryKey())
    .addColumn('document_id', 'bigint', (c) => c.notNull().references('script_documents.id'))
    .addColumn('generation', 'integer', (c) => c.notNull())
    .addColumn('rev', 'text', (c) => c.notNull())
    .addColumn('project_id', 'bigint')
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('content', 'text')
    .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('script_revisions_document')
    .on('script_revisions')
    .columns(['document_id', 'generation'])
    .unique()
    .execute();

  await db.schema
    .createTable('script_keys')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('name', 'text')
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull().unique())
    // JSON array of project IDs the key is limited to; null for a key that sees every project.
    .addColumn('projects', 'text')
    .addColumn('read_only', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('admin', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['script_keys', 'script_revisions', 'script_documents', 'script_projects']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
