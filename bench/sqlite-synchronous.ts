// Insert throughput of SQLite with `[database] sqlite_synchronous = normal` and `= full` (README, Configuration).
// Each insert is its own transaction, as one write request is. Run: node --import tsx bench/sqlite-synchronous.ts [count]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { createDatabase } from '../src/core/db/database.js';

const count = Number(process.argv[2] ?? 5000);

async function measure(mode: 'normal' | 'full'): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'dreamlake-sync-'));
  const database = createDatabase(join(dir, 'bench.sqlite'), { sqliteSynchronous: mode });
  try {
    await sql`create table t (id integer primary key, body text not null)`.execute(database.db);
    const body = JSON.stringify({ title: 'A document', tags: ['a', 'b'], text: 'x'.repeat(200) });
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      await database.db.insertInto('t').values({ body }).execute();
    }
    return count / ((performance.now() - started) / 1000);
  } finally {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const mode of ['normal', 'full', 'normal', 'full'] as const) {
  console.log(`synchronous=${mode}: ${Math.round(await measure(mode))} inserts/s (${count} single-row transactions)`);
}
