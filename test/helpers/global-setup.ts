import pg from 'pg';
import type { TestProject } from 'vitest/node';

export default function setup(project: TestProject) {
  const url = process.env.DREAMLAKE_TEST_POSTGRES_URL;
  const runId = `r${Date.now().toString(36)}${Math.random().toString(36).slice(2, 5)}`;
  project.provide('pgRunId', runId);
  if (!url) {
    console.log(
      '\n*** PostgreSQL tests SKIPPED: DREAMLAKE_TEST_POSTGRES_URL is not set (SQLite only). ' +
        'Set it, e.g. postgres://postgres@127.0.0.1:5432/test, to run them. ***\n',
    );
    return;
  }
  console.log(`PostgreSQL tests: running against ${url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@')}`);
  return async () => dropSchemasOfRun(url, runId);
}

async function dropSchemasOfRun(url: string, runId: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ nspname: string }>(
      `select nspname from pg_namespace where nspname like $1`,
      [`t\\_${runId}\\_%`],
    );
    for (const { nspname } of rows) await client.query(`drop schema if exists "${nspname}" cascade`);
  } finally {
    await client.end();
  }
}
