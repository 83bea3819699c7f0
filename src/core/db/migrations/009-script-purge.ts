import type { Kysely } from 'kysely';

// CouchDB's _purge: script_projects.purge_seq counts the purges of each project's database. The db info shows it,
// and every server process keys its cached document counts on it (a purge may remove documents without moving
// any document's last_seq).

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

export async function up(db: Db): Promise<void> {
  await db.schema.alterTable('script_projects').addColumn('purge_seq', 'integer', (c) => c.notNull().defaultTo(0)).execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.alterTable('script_projects').dropColumn('purge_seq').execute();
}
