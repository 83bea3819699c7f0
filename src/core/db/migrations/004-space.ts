import { sql, type CreateTableBuilder, type Kysely } from 'kysely';
import { dialectOf } from '../dialect.js';

// Dreamspace Adventures: users, transactions, specimens, documents, stamps, events.
// IDs are integers handed out by the server and never reused (clients cache them), timestamps are
// ISO 8601 UTC text with a fixed six-digit fraction (so text order is time order), and the foreign
// keys carry the documented delete rules: a user takes their transactions and specimens along, a
// document takes its stamps, and events merely lose the user or document they pointed at.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Builder = CreateTableBuilder<any, any>;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  // SQLite needs AUTOINCREMENT so that the ID of a deleted newest row is not handed out again;
  // PostgreSQL sequences never reuse values. (dialect.ts's autoIdType has no AUTOINCREMENT.)
  const id = (table: Builder, name: string): Builder =>
    dialectOf(db) === 'postgres'
      ? table.addColumn(name, 'bigserial', (c) => c.primaryKey())
      : table.addColumn(name, 'integer', (c) => c.primaryKey().modifyEnd(sql`autoincrement`));

  await id(db.schema.createTable('space_users'), 'user_id')
    .addColumn('twitch_id', 'text', (c) => c.unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('preferences', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('space_users_name').on('space_users').column('name').execute();

  await id(db.schema.createTable('space_transactions'), 'transaction_id')
    .addColumn('user_id', 'bigint', (c) => c.notNull().references('space_users.user_id').onDelete('cascade'))
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('reference', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('space_transactions_user').on('space_transactions').column('user_id').execute();

  await id(db.schema.createTable('space_specimens'), 'specimen_id')
    .addColumn('owner_id', 'bigint', (c) => c.notNull().references('space_users.user_id').onDelete('cascade'))
    .addColumn('born_at', 'text', (c) => c.notNull())
    .addColumn('forgotten_at', 'text')
    .execute();
  await db.schema
    .createIndex('space_specimens_owner')
    .on('space_specimens')
    .columns(['owner_id', 'born_at'])
    .execute();

  await id(db.schema.createTable('space_documents'), 'document_id')
    .addColumn('document_data', 'text', (c) => c.notNull())
    .addColumn('seal', 'bigint', (c) => c.notNull())
    .addColumn('metadata', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('space_documents_seal').on('space_documents').column('seal').execute();

  await id(db.schema.createTable('space_stamps'), 'stamp_id')
    .addColumn('document_id', 'bigint', (c) =>
      c.notNull().references('space_documents.document_id').onDelete('cascade'),
    )
    .addColumn('stamp_type', 'text', (c) => c.notNull())
    .addColumn('pos_x', 'bigint', (c) => c.notNull())
    .addColumn('pos_y', 'bigint', (c) => c.notNull())
    .addColumn('rotation', 'double precision', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('space_stamps_document').on('space_stamps').columns(['document_id', 'stamp_id']).execute();
  await db.schema.createIndex('space_stamps_type').on('space_stamps').columns(['stamp_type', 'document_id']).execute();

  // One table for the four event types: the type-specific columns are null where they do not apply.
  await id(db.schema.createTable('space_events'), 'event_id')
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('user_id', 'bigint', (c) => c.references('space_users.user_id').onDelete('set null'))
    .addColumn('user_name', 'text')
    .addColumn('occurred_at', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('document_id', 'bigint', (c) => c.references('space_documents.document_id').onDelete('set null'))
    .addColumn('message', 'text')
    .addColumn('tier', 'bigint')
    .addColumn('subscribed_length', 'bigint')
    .addColumn('amount', 'bigint')
    .addColumn('viewer_count', 'bigint')
    .execute();
  await db.schema.createIndex('space_events_type').on('space_events').columns(['event_type', 'event_id']).execute();
  await db.schema.createIndex('space_events_user').on('space_events').column('user_id').execute();
  await db.schema.createIndex('space_events_document').on('space_events').column('document_id').execute();
  await db.schema.createIndex('space_events_occurred').on('space_events').column('occurred_at').execute();
  await db.schema.createIndex('space_events_user_name').on('space_events').column('user_name').execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['space_events', 'space_stamps', 'space_documents', 'space_specimens', 'space_transactions', 'space_users']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
