import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import { buildApp } from '../../src/app.js';
import { signToken } from '../../src/core/auth/jwt.js';
import { loadConfig, type Config } from '../../src/core/config.js';
import { createDatabase, type DialectName } from '../../src/core/db/database.js';

export const PG_URL = process.env.DREAMLAKE_TEST_POSTGRES_URL;

/** Every integration test runs once per dialect: SQLite always, PostgreSQL when its URL is set. */
export const DIALECTS: DialectName[] = PG_URL ? ['sqlite', 'postgres'] : ['sqlite'];

export const TEST_JWT_SECRET = 'test-secret-test-secret-test-secret!';

export interface TestApp {
  app: FastifyInstance;
  config: Config;
  dialect: DialectName;
  dataDir: string;
  /** A valid Bearer header for `username` (its user and namespace appear on first use). */
  auth(username: string): Promise<Record<string, string>>;
  inject(options: InjectOptions): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/**
 * A fresh app on a fresh database: a temp dir for SQLite, a new schema for PostgreSQL (dropped on close).
 * `env` overrides configuration the way a user's environment would.
 */
export async function createTestApp(dialect: DialectName, env: NodeJS.ProcessEnv = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'dreamlake-test-'));
  let schema: string | undefined;
  let databaseUrl = join(dataDir, 'dreamlake.sqlite');
  if (dialect === 'postgres') {
    if (!PG_URL) throw new Error('DREAMLAKE_TEST_POSTGRES_URL is not set');
    schema = `t_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
    await adminQuery(`create schema ${schema}`);
    databaseUrl = PG_URL;
  }
  const config = loadConfig(
    { data: dataDir, database: databaseUrl },
    { DREAMLAKE_JWT_SECRET: TEST_JWT_SECRET, ...env },
  );
  const database = createDatabase(config.databaseUrl, { schema, poolSize: 5 });
  const app = await buildApp(config, { database, logger: false });
  await app.ready();

  return {
    app,
    config,
    dialect,
    dataDir,
    async auth(username: string) {
      return { authorization: `Bearer ${await signToken(TEST_JWT_SECRET, username, 1)}` };
    },
    inject: (options) => app.inject(options),
    async close() {
      await app.close();
      if (schema) await adminQuery(`drop schema ${schema} cascade`);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function adminQuery(text: string) {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}
