import pg from 'pg';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    pgRunId: string;
  }
}

export const PG_URL = process.env.DREAMLAKE_TEST_POSTGRES_URL;

/** A fresh PostgreSQL schema for one test database; the run's schemas are dropped when it ends (global teardown). */
export async function createTestSchema(): Promise<string> {
  const schema = `t_${inject('pgRunId')}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  await adminQuery(`create schema ${schema}`);
  return schema;
}

/** The database URL with its search_path set to `schema` (for a CLI `--database` or a child server). */
export function urlWithSchema(schema: string): string {
  const url = new URL(PG_URL!);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

export async function adminQuery(text: string, values: unknown[] = []) {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}
