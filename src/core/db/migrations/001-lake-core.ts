import { sql, type Kysely } from 'kysely';

// DreamLake tenancy and grouping: users, namespaces, members, projects, datasets, collections.
// Timestamps are ISO 8601 UTC text and JSON fields are text in both dialects, so that one code path
// serves SQLite and PostgreSQL alike. Uniqueness holds among live rows only (partial indexes), so a
// soft-deleted row frees its name.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('subject', 'text', (c) => c.notNull().unique())
    .addColumn('username', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('namespaces')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('slug', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('metadata', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('deleted_at', 'text')
    .execute();
  await sql`create unique index namespaces_live_slug on namespaces (slug) where deleted_at is null`.execute(db);

  await db.schema
    .createTable('namespace_members')
    .addColumn('namespace_id', 'text', (c) => c.notNull().references('namespaces.id'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('namespace_members_pk', ['namespace_id', 'user_id'])
    .execute();
  await db.schema.createIndex('namespace_members_user').on('namespace_members').column('user_id').execute();

  await db.schema
    .createTable('projects')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('namespace_id', 'text', (c) => c.notNull().references('namespaces.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('slug', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('tags', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('metadata', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('deleted_at', 'text')
    .execute();
  await sql`create unique index projects_live_slug on projects (namespace_id, slug) where deleted_at is null`.execute(db);

  await db.schema
    .createTable('datasets')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('tags', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('metadata', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('deleted_at', 'text')
    .execute();
  await sql`create unique index datasets_live_name on datasets (project_id, name) where deleted_at is null`.execute(db);

  await db.schema
    .createTable('collections')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
    .addColumn('dataset_id', 'text', (c) => c.references('datasets.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('tags', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('metadata', 'text')
    // Appends take max(position)+1 from here instead of scanning the member table.
    .addColumn('next_position', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('deleted_at', 'text')
    .execute();
  await sql`create unique index collections_live_name on collections (project_id, name) where deleted_at is null`.execute(db);
  await db.schema.createIndex('collections_dataset').on('collections').column('dataset_id').execute();

  await db.schema
    .createTable('collection_members')
    .addColumn('collection_id', 'text', (c) => c.notNull().references('collections.id'))
    .addColumn('node_id', 'text', (c) => c.notNull())
    .addColumn('position', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('collection_members_pk', ['collection_id', 'node_id'])
    .execute();
  await db.schema
    .createIndex('collection_members_order')
    .on('collection_members')
    .columns(['collection_id', 'position'])
    .execute();
  await db.schema.createIndex('collection_members_node').on('collection_members').column('node_id').execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['collection_members', 'collections', 'datasets', 'projects', 'namespace_members', 'namespaces', 'users']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
