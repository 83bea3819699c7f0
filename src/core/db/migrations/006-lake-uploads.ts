import { sql, type Kysely } from 'kysely';

// The original clients' blob service (BSS): staged multipart uploads and the files registered from them.
// - lake_uploads: one staged upload per init, keyed for lookups by (uploader, hash) because the original CLI
//   resumes by content hash alone. `hash` is the hex prefix of the sha256 the client announced; `sha256` and
//   `size` are what the server computed when the upload was completed. Rows live until `expires_at`, when
//   the sweep aborts what is still staged and deletes the row.
// - bss_files: finished content registered by `POST /files` (the bssId the CLI hands to `POST /nodes`).
//   Its blob counts as referenced for `dreamlake gc`.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('lake_uploads')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('uploader_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('store_upload_id', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('project', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('completed_at', 'text')
    .addColumn('sha256', 'text')
    .addColumn('size', 'bigint')
    .execute();
  await sql`create index lake_uploads_uploader_hash on lake_uploads (uploader_id, hash, id)`.execute(db);
  await sql`create index lake_uploads_expiry on lake_uploads (expires_at)`.execute(db);
  await sql`create index lake_uploads_sha256 on lake_uploads (sha256) where sha256 is not null`.execute(db);

  await db.schema
    .createTable('bss_files')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('uploader_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('original_name', 'text')
    .addColumn('kind', 'text')
    .addColumn('owner', 'text')
    .addColumn('project', 'text')
    .addColumn('metadata', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await sql`create index bss_files_uploader_sha256 on bss_files (uploader_id, sha256, id)`.execute(db);
  await sql`create index bss_files_sha256 on bss_files (sha256)`.execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('bss_files').ifExists().execute();
  await db.schema.dropTable('lake_uploads').ifExists().execute();
}
