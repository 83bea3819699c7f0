import type { Kysely } from 'kysely';

// A CouchDB database's update_seq never goes back. Ours is the highest last_seq of the project's documents, which
// drops when the newest one leaves (moved to another project, purged): script_projects.seq_floor keeps the seq of
// such a departure, and update_seq is the higher of the two.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

export async function up(db: Db): Promise<void> {
  await db.schema.alterTable('script_projects').addColumn('seq_floor', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.alterTable('script_projects').dropColumn('seq_floor').execute();
}
