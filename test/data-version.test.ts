import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '../src/core/db/database.js';
import { PG_URL } from './helpers/app.js';

// Database.dataVersion() is what the response cache trusts: it must change with every write, wherever it
// comes from, and must not be offered while a transaction could be showing uncommitted rows.
describe('SQLite data version', () => {
  let dir: string;
  let a: Database;
  let b: Database;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dreamlake-version-'));
    a = createDatabase(join(dir, 'db.sqlite'));
    b = createDatabase(join(dir, 'db.sqlite'));
    await sql`create table t (id integer primary key, v text)`.execute(a.db);
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stays the same across reads', async () => {
    const v = a.dataVersion();
    await sql`select * from t`.execute(a.db);
    expect(a.dataVersion()).toBe(v);
  });

  it('changes with a write on the same connection, RETURNING included', async () => {
    const v0 = a.dataVersion();
    await sql`insert into t (v) values ('x')`.execute(a.db);
    const v1 = a.dataVersion();
    expect(v1).not.toBe(v0);
    await sql`insert into t (v) values ('y') returning id`.execute(a.db);
    expect(a.dataVersion()).not.toBe(v1);
  });

  it("changes with another connection's commit", async () => {
    const v = a.dataVersion();
    await sql`update t set v = 'z'`.execute(b.db);
    expect(a.dataVersion()).not.toBe(v);
  });

  it('is null inside a transaction, and changed after it commits or rolls back', async () => {
    const before = a.dataVersion();
    await a.db.transaction().execute(async (trx) => {
      await sql`insert into t (v) values ('in')`.execute(trx);
      expect(a.dataVersion()).toBeNull();
    });
    const committed = a.dataVersion();
    expect(committed).not.toBeNull();
    expect(committed).not.toBe(before);
    await expect(
      a.db.transaction().execute(async (trx) => {
        await sql`insert into t (v) values ('gone')`.execute(trx);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(a.dataVersion()).not.toBe(committed);
  });
});

describe.runIf(PG_URL)('PostgreSQL data version', () => {
  it('is never offered: other replicas write without telling this one', async () => {
    const db = createDatabase(PG_URL!);
    try {
      expect(db.dataVersion()).toBeNull();
    } finally {
      await db.close();
    }
  });
});
