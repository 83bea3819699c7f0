import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../dialect.js';

// DreamLake node tree: folders and episodes (inner nodes) and files (leaves) of a project. Each node keeps
// its full path, so that lookups by path, subtrees (a path range) and sibling uniqueness (unique live path)
// are single index scans; moves rewrite the paths of the subtree. File bytes live in the blob store under
// their sha256; a node only names its blob. `node_trees` holds one row per project that every tree write
// locks first, which serialises writers of one tree (mkdir -p races, a delete racing an upload) on both
// dialects without retries; it also counts the root's children, as `child_count` does for inner nodes.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  // Names and paths sort and compare byte-wise on both dialects (SQLite's BINARY is PostgreSQL's "C"), so
  // listings come out in one order and a path range `[p/, p0)` is exactly the subtree of p.
  const byteText = dialectOf(db) === 'postgres' ? sql`text collate "C"` : sql`text`;

  await db.schema
    .createTable('nodes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
    .addColumn('parent_id', 'text', (c) => c.references('nodes.id'))
    .addColumn('name', byteText, (c) => c.notNull())
    .addColumn('path', byteText, (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('leaf', 'integer', (c) => c.notNull())
    .addColumn('tags', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('metadata', 'text')
    .addColumn('size', 'bigint')
    .addColumn('content_type', 'text')
    .addColumn('sha256', 'text')
    // Episodes only.
    .addColumn('description', 'text')
    .addColumn('status', 'text')
    // Live children of an inner node, kept under the tree lock, so a folder of any size lists in O(page).
    .addColumn('child_count', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('deleted_at', 'text')
    .execute();
  await sql`create unique index nodes_live_path on nodes (project_id, path) where deleted_at is null`.execute(db);
  await sql`create index nodes_live_children on nodes (project_id, parent_id, leaf, name) where deleted_at is null`.execute(db);
  await sql`create unique index nodes_live_episode on nodes (project_id, name) where kind = 'episode' and deleted_at is null`.execute(db);
  await sql`create index nodes_live_leaf_kind on nodes (project_id, kind) where leaf = 1 and deleted_at is null`.execute(db);
  await sql`create index nodes_live_sha256 on nodes (sha256) where deleted_at is null`.execute(db);

  await db.schema
    .createTable('node_trees')
    .addColumn('project_id', 'text', (c) => c.primaryKey().references('projects.id'))
    .addColumn('version', 'bigint', (c) => c.notNull().defaultTo(0))
    // Live nodes at the root of the project (the root has no row of its own).
    .addColumn('root_count', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('node_trees').ifExists().execute();
  await db.schema.dropTable('nodes').ifExists().execute();
}
