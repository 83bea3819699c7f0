import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '../src/core/db/database.js';
import { relaxedCommitReturning } from '../src/core/db/dialect.js';
import { createTestSchema, PG_URL } from './helpers/pg.js';

// relaxedCommitReturning: a single-statement write whose own transaction commits without waiting for the WAL
// flush (PostgreSQL), and only that transaction: the pooled connection is back to synchronous commits after it.
const databases: Database[] = [];
afterAll(async () => {
  for (const d of databases) await d.close();
});

describe.runIf(PG_URL)('relaxedCommitReturning (postgres)', () => {
  it('relaxes the transaction the write runs in, and no other', async () => {
    const d = createDatabase(PG_URL!, { schema: await createTestSchema(), poolSize: 1 });
    databases.push(d);
    await sql`create table t (id integer primary key, v text)`.execute(d.db);
    const setting = async (db = d.db) => (await sql<{ s: string }>`select current_setting('synchronous_commit') as s`.execute(db)).rows[0].s;
    expect(await setting()).toBe('on');

    const row = await d.db.insertInto('t').values({ id: 1, v: 'a' }).returning(['v', ...relaxedCommitReturning(d.db)]).executeTakeFirst();
    expect(row?.v).toBe('a');
    // One connection in the pool: the same session, after the write's implicit transaction.
    expect(await setting()).toBe('on');

    const inside = await d.db.transaction().execute(async (trx) => {
      await trx.updateTable('t').set({ v: 'b' }).where('id', '=', 1).returning(['v', ...relaxedCommitReturning(trx)]).executeTakeFirst();
      return setting(trx);
    });
    expect(inside).toBe('off');
    expect(await setting()).toBe('on');
    expect((await sql<{ v: string }>`select v from t`.execute(d.db)).rows).toEqual([{ v: 'b' }]);
  });
});

describe('relaxedCommitReturning (sqlite)', () => {
  it('adds nothing: SQLite commits without a flush already', () => {
    const d = createDatabase(':memory:');
    databases.push(d);
    expect(relaxedCommitReturning(d.db)).toEqual([]);
  });
});
