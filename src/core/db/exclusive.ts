import { sql, type Kysely } from 'kysely';
import { turnsByKey } from '../turns.js';
import { dialectOf } from './dialect.js';

const local = turnsByKey();

/**
 * Runs `task` while no other holder of `name` runs, in this process or (on PostgreSQL) in any server sharing the
 * database: later callers wait their turn. For long operations that are not one transaction (assembling a
 * multipart upload in the blob store), where a check-then-act in two replicas at once would do the work twice.
 * On PostgreSQL a session advisory lock on a connection of its own; a server that dies releases it with its
 * connection, so nothing stays locked after a crash.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function runExclusively<T>(db: Kysely<any>, name: string, task: () => Promise<T>): Promise<T> {
  return local(name, () => acrossServers(db, name, task));
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function acrossServers<T>(db: Kysely<any>, name: string, task: () => Promise<T>): Promise<T> {
  if (dialectOf(db) !== 'postgres') return task(); // SQLite: one server process per database file
  return db.connection().execute(async (conn) => {
    const key = sql`hashtext(${name} || ':' || current_schema())`;
    await sql`select pg_advisory_lock(${key})`.execute(conn);
    try {
      return await task();
    } finally {
      await sql`select pg_advisory_unlock(${key})`.execute(conn);
    }
  });
}
