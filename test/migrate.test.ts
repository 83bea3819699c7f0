import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Migrator, type Migration } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createDatabase } from '../src/core/db/database.js';
import { migrateToLatest } from '../src/core/db/migrate.js';
import { migrations } from '../src/core/db/migrations/index.js';
import { createTestSchema, PG_URL } from './helpers/pg.js';
import { runCli } from './helpers/server-process.js';

const ALL = Object.keys(migrations).sort();
const upTo = (last: string) => Object.fromEntries(Object.entries(migrations).filter(([name]) => name <= last)) as Record<string, Migration>;

async function migrateSchema(schema: string) {
  const database = createDatabase(PG_URL!, { schema, poolSize: 2 });
  try {
    return await migrateToLatest(database.db);
  } finally {
    await database.close();
  }
}

describe.skipIf(!PG_URL)('migrations on PostgreSQL schemas side by side', () => {
  const admin = new pg.Pool({ connectionString: PG_URL, max: 2 });
  afterAll(() => admin.end());

  it('migrate fresh schemas concurrently while other schemas of the database come and go', async () => {
    // What other test runs on the same database do meanwhile: make schemas with tables, then drop them.
    let churning = true;
    const churn = async (worker: number) => {
      for (let i = 0; churning; i++) {
        // Named like the run's schemas, so that the run's teardown drops any left over.
        const other = `t_${inject('pgRunId')}_${process.pid}_churn${worker}_${i}`;
        await admin.query(`create schema ${other}; create table ${other}.t (id bigserial primary key, v text)`);
        await admin.query(`drop schema ${other} cascade`);
      }
    };
    const churners = [churn(1), churn(2)];
    try {
      for (let round = 0; round < 3; round++) {
        const schemas = await Promise.all(Array.from({ length: 5 }, () => createTestSchema()));
        const applied = await Promise.all(schemas.map(migrateSchema));
        expect(applied).toEqual(schemas.map(() => ALL));
        for (const schema of schemas) {
          const { rows } = await admin.query(`select name from ${schema}.kysely_migration order by name`);
          expect(rows.map((r) => r.name)).toEqual(ALL);
        }
      }
    } finally {
      churning = false;
      await Promise.all(churners);
    }
  });

  it('applies each migration once when several processes migrate the same schema at once', async () => {
    const schema = await createTestSchema();
    const applied = await Promise.all(Array.from({ length: 4 }, () => migrateSchema(schema)));
    expect(applied.flat().sort()).toEqual(ALL);
    expect(await migrateSchema(schema)).toEqual([]);
  });
});

describe('migrations on SQLite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dreamlake-migrate-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('applies each migration once when several processes migrate the same file at once', async () => {
    const file = join(dir, 'concurrent.sqlite');
    const runs = await Promise.all(Array.from({ length: 3 }, () => runCli(['migrate', '--database', file])));
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0]);
    const applied = runs.flatMap((r) => /^Applied: (.*)$/m.exec(r.stdout)?.[1]?.split(', ') ?? []);
    expect(applied.sort()).toEqual(ALL);
  });

  it('carries on from a database that Kysely’s Migrator brought part of the way', async () => {
    const database = createDatabase(join(dir, 'kysely.sqlite'));
    try {
      const provider = { getMigrations: async () => upTo('004-space') };
      expect((await new Migrator({ db: database.db, provider }).migrateToLatest()).error).toBeUndefined();
      expect(await migrateToLatest(database.db)).toEqual(ALL.filter((name) => name > '004-space'));
    } finally {
      await database.close();
    }
  });

  it('refuses a database newer than the server, and rolls a failed migration back whole', async () => {
    const database = createDatabase(join(dir, 'newer.sqlite'));
    try {
      await migrateToLatest(database.db);
      await expect(migrateToLatest(database.db, upTo('007-lake-original'))).rejects.toThrow(/008-script-couch.*does not know/);
      const failing: Migration = {
        up: async (db) => {
          await db.schema.createTable('half_done').addColumn('id', 'integer').execute();
          throw new Error('boom');
        },
      };
      await expect(migrateToLatest(database.db, { ...migrations, '999-failing': failing })).rejects.toThrow('boom');
      const tables = await database.db.introspection.getTables();
      expect(tables.map((t) => t.name)).not.toContain('half_done');
      expect(await migrateToLatest(database.db)).toEqual([]);
    } finally {
      await database.close();
    }
  });
});
