import type { Kysely } from 'kysely';

// What the original DreamLake clients need from the model: a project's visibility (private by default;
// public projects are readable by every signed-in user, never writable by outsiders).

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('projects').addColumn('visibility', 'text', (c) => c.notNull().defaultTo('private')).execute();
  // Strangers list a namespace's public projects; members list all of them (the existing index).
  await db.schema.createIndex('projects_public').on('projects').columns(['namespace_id', 'visibility', 'id']).execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('projects_public').execute();
  await db.schema.alterTable('projects').dropColumn('visibility').execute();
}
