import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { startCheckpointer } from '../src/core/db/checkpointer.js';
import { createDatabase } from '../src/core/db/database.js';

// backgroundCheckpoint: the server's SQLite connection commits without checkpointing, and a worker thread moves
// the WAL into the database file instead.
const dir = mkdtempSync(join(tmpdir(), 'dreamlake-checkpointer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function until(check: () => Promise<boolean> | boolean, ms = 5000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('SQLite background checkpoint', () => {
  it('turns the connection’s own checkpoint off, and the worker checkpoints the WAL into the database file', async () => {
    const file = join(dir, 'bg.sqlite');
    const d = createDatabase(file, { backgroundCheckpoint: true });
    const autocheckpoint = async () => (await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(d.db)).rows[0].wal_autocheckpoint;
    await until(async () => (await autocheckpoint()) === 0);

    await sql`create table t (id integer primary key, v text)`.execute(d.db);
    const before = statSync(file).size;
    // About 8 MB in the WAL: 8 commits of 1 MB, more than the 1,000 pages that start a checkpoint.
    for (let i = 0; i < 8; i++) await sql`insert into t (v) values (${'x'.repeat(1024 * 1024)})`.execute(d.db);
    await until(() => statSync(file).size > before + 6 * 1024 * 1024);
    const rows = await sql<{ n: number }>`select count(*) as n from t`.execute(d.db);
    expect(rows.rows[0].n).toBe(8);
    await d.close();
  });

  it('leaves the connection’s own checkpoint on without it', async () => {
    const d = createDatabase(join(dir, 'fg.sqlite'));
    const rows = await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(d.db);
    expect(rows.rows[0].wal_autocheckpoint).toBe(1000);
    await d.close();
  });

  it('gives the checkpoint back to the connection when the worker fails', async () => {
    const calls: string[] = [];
    const c = startCheckpointer(join(dir, 'no such dir', 'x.sqlite'), () => calls.push('off'), () => calls.push('on'));
    await until(() => calls.includes('on'));
    expect(calls).toEqual(['off', 'on']);
    await c.close();
  });
});
