import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '../src/core/db/database.js';
import { inList, nextAutoIds } from '../src/core/db/dialect.js';
import { insertRows } from '../src/core/db/insert-rows.js';
import { createTestSchema, PG_URL } from './helpers/pg.js';

// insertRows (an insert without Kysely's builder, its text kept per shape) and nextAutoIds (keys taken before
// the insert), on both dialects in one process, as the server and the tests use them.
const dir = mkdtempSync(join(tmpdir(), 'dreamlake-insert-rows-'));
const databases: Database[] = [];
afterAll(async () => {
  for (const d of databases) await d.close();
  rmSync(dir, { recursive: true, force: true });
});

async function open(dialect: 'sqlite' | 'postgres'): Promise<Database> {
  const d = dialect === 'sqlite' ? createDatabase(join(dir, 'db.sqlite')) : createDatabase(PG_URL!, { schema: await createTestSchema() });
  databases.push(d);
  const id = dialect === 'postgres' ? sql`bigserial` : sql`integer`;
  await sql`create table t (id ${id} primary key, name text, n integer)`.execute(d.db);
  return d;
}

describe.each(['sqlite', ...(PG_URL ? ['postgres' as const] : [])] as const)('insertRows and nextAutoIds (%s)', (dialect) => {
  it('inserts rows (nulls for missing values) and answers the returning column', async () => {
    const d = await open(dialect);
    const ids = await insertRows(d.db, 't', [{ name: 'a', n: 1 }, { name: 'b', n: undefined }], 'id');
    expect(ids.map((r) => Number(r.id)).sort()).toEqual([1, 2]);
    expect(await insertRows(d.db, 't', [{ name: 'c', n: 3 }])).toEqual([]);
    const rows = await sql<{ id: number; name: string; n: number | null }>`select id, name, n from t order by id`.execute(d.db);
    expect(rows.rows.map((r) => [Number(r.id), r.name, r.n])).toEqual([[1, 'a', 1], [2, 'b', null], [3, 'c', 3]]);
  });

  it('takes the next keys in a block that inserts with explicit keys then continue from', async () => {
    const d = databases.at(-1)!;
    const taken = await d.db.transaction().execute(async (trx) => {
      const next = await nextAutoIds(trx, 't', 'id', 3);
      await insertRows(trx, 't', next.map((id) => ({ id, name: `k${id}`, n: 0 })));
      return next;
    });
    expect(taken).toEqual([4, 5, 6]);
    const [after] = await insertRows(d.db, 't', [{ name: 'later', n: 0 }], 'id');
    expect(Number(after.id)).toBe(7);
  });

  it('stores any text exactly, and more rows than one statement of either dialect takes at once', async () => {
    const d = databases.at(-1)!;
    const tricky = ['', 'NULL', 'null', '"', '\\', '\\"', '{a,b}', ' spaced ', 'a,b', '{"json": ["x", "y\\"z"]}', 'é ☃ 𝄞', "it's", '\n\t'];
    const rows = Array.from({ length: 1000 }, (_, i) => ({ name: i < tricky.length ? tricky[i] : `row ${i}`, n: i % 7 === 0 ? null : i }));
    const ids = (await insertRows(d.db, 't', rows, 'id')).map((r) => Number(r.id)).sort((a, b) => a - b);
    expect(ids).toHaveLength(1000);
    const stored = await sql<{ name: string; n: number | null }>`select name, n from t where id >= ${ids[0]} order by id`.execute(d.db);
    expect(stored.rows.map((r) => [r.name, r.n === null ? null : Number(r.n)])).toEqual(rows.map((r) => [r.name, r.n]));
  });

  it('inList finds the rows whose column is among many values, as text or as numbers', async () => {
    const d = databases.at(-1)!;
    const names = Array.from({ length: 1000 }, (_, i) => `row ${i}`);
    const wanted = [...names.filter((_, i) => i % 3 === 0), 'no such row', '"', 'NULL'];
    const byName = await sql<{ name: string }>`select name from t where ${inList(dialect, sql.ref('name'), wanted, 'text')}`.execute(d.db);
    const all = (await sql<{ name: string }>`select name from t`.execute(d.db)).rows.map((r) => r.name);
    const expected = all.filter((name) => wanted.includes(name)).sort();
    expect(expected).toContain('"');
    expect(expected.length).toBeGreaterThan(300);
    expect(byName.rows.map((r) => r.name).sort()).toEqual(expected);
    const ids = (await sql<{ id: number }>`select id from t order by id limit 5`.execute(d.db)).rows.map((r) => Number(r.id));
    const byId = await sql<{ id: number }>`select id from t where ${inList(dialect, sql.ref('id'), [ids[1], ids[3], 10 ** 12], 'bigint')}`.execute(d.db);
    expect(byId.rows.map((r) => Number(r.id)).sort((a, b) => a - b)).toEqual([ids[1], ids[3]]);
  });
});
