import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlannerStats } from '../../src/script/planner-stats.js';
import { PG_URL } from '../helpers/pg.js';
import { createScriptTestApp, type ScriptTestApp } from './helpers.js';

// A bulk load on PostgreSQL refreshes the planner's statistics of the document tables itself (see
// planner-stats.ts): after 5,000 documents of a project, then after as many again as in all before.
describe.runIf(PG_URL)('planner statistics during a bulk load (postgres)', () => {
  let t: ScriptTestApp;
  beforeAll(async () => {
    t = await createScriptTestApp('postgres');
  });
  afterAll(async () => t.close());

  const analyzed = async () => {
    const { rows } = await sql<{ n: number }>`select count(*) as n from pg_stat_user_tables where schemaname = current_schema() and relname in ('script_documents', 'script_revisions') and last_analyze is not null`.execute(t.db);
    return Number(rows[0].n);
  };
  const settle = () => new Promise((r) => setTimeout(r, 300));

  it('analyzes the document tables at 5,000 documents written into a project, then at 10,000, 20,000…', async () => {
    const stats = new PlannerStats(t.db);
    stats.wrote(1, 4999);
    stats.wrote(2, 4999);
    await settle();
    expect(await analyzed()).toBe(0);
    stats.wrote(1, 1);
    await settle();
    expect(await analyzed()).toBe(2);
    await sql`select pg_stat_clear_snapshot()`.execute(t.db);
    const before = await sql<{ at: string }>`select max(last_analyze)::text as at from pg_stat_user_tables where schemaname = current_schema()`.execute(t.db);
    stats.wrote(1, 4999);
    await settle();
    const still = await sql<{ at: string }>`select max(last_analyze)::text as at from pg_stat_user_tables where schemaname = current_schema()`.execute(t.db);
    expect(still.rows[0].at).toBe(before.rows[0].at);
  });
});
