import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '../src/core/db/database.js';
import { runExclusively } from '../src/core/db/exclusive.js';
import { createTestSchema, PG_URL } from './helpers/pg.js';

// runExclusively: one holder of a name at a time, in this process and (PostgreSQL) across servers.
const dir = mkdtempSync(join(tmpdir(), 'dreamlake-exclusive-'));
const databases: Database[] = [];
afterAll(async () => {
  for (const d of databases) await d.close();
  rmSync(dir, { recursive: true, force: true });
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(['sqlite', ...(PG_URL ? ['postgres' as const] : [])] as const)('runExclusively (%s)', (dialect) => {
  let schema: string | undefined;
  const open = async () => {
    if (dialect === 'postgres') schema ??= await createTestSchema();
    const d = dialect === 'sqlite' ? createDatabase(join(dir, 'db.sqlite')) : createDatabase(PG_URL!, { schema });
    databases.push(d);
    return d;
  };

  it('holders of one name take turns (a failed one too); other names run alongside', async () => {
    const d = await open();
    const log: string[] = [];
    const task = (name: string, ms: number, fail = false) => async () => {
      log.push(`+${name}`);
      await sleep(ms);
      log.push(`-${name}`);
      if (fail) throw new Error(`${name} failed`);
      return name;
    };
    const results = await Promise.allSettled([
      runExclusively(d.db, 'x', task('a', 60, true)),
      runExclusively(d.db, 'x', task('b', 10)),
      runExclusively(d.db, 'y', task('c', 10)),
    ]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual(['a failed', 'b', 'c']);
    expect(log.indexOf('+b')).toBeGreaterThan(log.indexOf('-a'));
    expect(log.indexOf('-c')).toBeLessThan(log.indexOf('-a')); // y did not wait for x
  });

  if (dialect === 'postgres') {
    it('holds a PostgreSQL advisory lock that another server sees, released after the task', async () => {
      const d = await open();
      const other = await open(); // another server on the same database and schema
      const tryLock = async () =>
        (await sql<{ got: boolean }>`select pg_try_advisory_lock(hashtext(${'lake.upload:u1'} || ':' || current_schema())) as got`.execute(other.db)).rows[0].got;
      const unlock = () => sql`select pg_advisory_unlock_all()`.execute(other.db);
      let seen: boolean | undefined;
      await runExclusively(d.db, 'lake.upload:u1', async () => {
        seen = await tryLock();
      });
      expect(seen).toBe(false);
      expect(await tryLock()).toBe(true);
      await unlock();
    });

    it('a pooled connection that PostgreSQL terminates while idle is dropped: the process carries on and the next query works', async () => {
      const d = await open();
      const pid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(d.db)).rows[0].pid;
      const other = await open();
      const killed = (await sql<{ ok: boolean }>`select pg_terminate_backend(${pid}) as ok`.execute(other.db)).rows[0].ok;
      expect(killed).toBe(true);
      await sleep(200); // the idle client sees its socket close (an unheard 'error' would fail this test file)
      expect((await sql<{ one: number }>`select 1 as one`.execute(d.db)).rows[0].one).toBe(1);
    });
  }
});
