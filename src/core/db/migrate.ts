import { sql, type Kysely, type Migration } from 'kysely';
import { dialectOf } from './dialect.js';
import { migrations as all } from './migrations/index.js';

// Bookkeeping in Kysely's own tables and format (databases migrated by its Migrator carry on here), but not
// its Migrator: that one looks for these tables by introspecting every schema of the database, which fails
// when another schema is dropped meanwhile, and it serialises on one advisory lock for the whole database.
// Here everything happens in the current schema, in one transaction, under a lock on that schema alone.
const TABLE = 'kysely_migration';
const LOCK_TABLE = 'kysely_migration_lock';

/**
 * Runs every pending migration (of `migrations`, by default all of them) in one transaction; safe to call at
 * each start-up, from `dreamlake migrate`, and from several processes at once. Returns the names applied.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function migrateToLatest(db: Kysely<any>, migrations: Record<string, Migration> = all): Promise<string[]> {
  return db.connection().execute(async (conn) => {
    await begin(conn);
    try {
      const applied = await runPending(conn, migrations);
      await sql`commit`.execute(conn);
      return applied;
    } catch (err) {
      await sql`rollback`.execute(conn).catch(() => undefined);
      throw err;
    }
  });
}

/** Opens the transaction holding the migration lock of this database (PostgreSQL: of its current schema). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function begin(conn: Kysely<any>) {
  if (dialectOf(conn) === 'postgres') {
    await sql`begin`.execute(conn);
    // Released at commit or rollback. Keyed by schema: other schemas' migrations go on meanwhile.
    await sql`select pg_advisory_xact_lock(hashtext('dreamlake.migrate'), hashtext(current_schema()))`.execute(conn);
  } else {
    // SQLite: the write lock from the start, so two processes cannot both read "pending" and then collide.
    await sql`begin immediate`.execute(conn);
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function runPending(conn: Kysely<any>, migrations: Record<string, Migration>): Promise<string[]> {
  const table = sql.table(TABLE);
  const lockTable = sql.table(LOCK_TABLE);
  await sql`create table if not exists ${table} (name varchar(255) not null primary key, timestamp varchar(255) not null)`.execute(conn);
  // Kysely's Migrator, should an older server run it on this database, expects its lock table and row.
  await sql`create table if not exists ${lockTable} (id varchar(255) not null primary key, is_locked integer default 0 not null)`.execute(conn);
  await sql`insert into ${lockTable} (id, is_locked) values ('migration_lock', 0) on conflict do nothing`.execute(conn);

  const executed = (await conn.selectFrom(TABLE).select('name').execute()).map((r: { name: string }) => r.name).sort();
  const names = Object.keys(migrations).sort();
  executed.forEach((name, i) => {
    if (names[i] === name) return;
    throw new Error(
      migrations[name]
        ? `migrations out of order: ${name} was applied before ${names[i]}`
        : `the database has migration ${name}, which this server does not know (is the server older than its database?)`,
    );
  });
  const pending = names.slice(executed.length);
  for (const name of pending) {
    await migrations[name]!.up(conn);
    await conn.insertInto(TABLE).values({ name, timestamp: new Date().toISOString() }).execute();
  }
  return pending;
}
