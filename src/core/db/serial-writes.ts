import { sql, type Kysely } from 'kysely';
import { dialectOf } from './dialect.js';

/**
 * Makes the writers of one family commit one after another, in the order they allocate IDs and sequence
 * numbers, so that keyset readers (`id > cursor`, `seq > since`) never miss a row committed late with a
 * smaller number. SQLite already has a single writer; on PostgreSQL a transaction-scoped advisory lock,
 * per schema, does the same. `notify` also queues a NOTIFY on that channel (delivered at commit, dropped
 * on rollback) carrying the schema name, so that listeners can ignore other schemas of the same database.
 * Call it first thing inside the transaction.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function serializeWrites(trx: Kysely<any>, lockName: string, notify?: string): Promise<void> {
  if (dialectOf(trx) !== 'postgres') return;
  const lock = sql`pg_advisory_xact_lock(hashtext(${lockName} || ':' || current_schema()))`;
  if (notify) await sql`select ${lock}, pg_notify(${notify}, current_schema())`.execute(trx);
  else await sql`select ${lock}`.execute(trx);
}
