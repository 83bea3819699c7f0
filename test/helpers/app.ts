import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/app.js';
import { signToken } from '../../src/core/auth/jwt.js';
import { loadConfig, type Config } from '../../src/core/config.js';
import { createDatabase, type Database, type DialectName } from '../../src/core/db/database.js';
import { createTestSchema, PG_URL, urlWithSchema } from './pg.js';

export { PG_URL };

/** Every integration test runs once per dialect: SQLite always, PostgreSQL when its URL is set. */
export const DIALECTS: DialectName[] = PG_URL ? ['sqlite', 'postgres'] : ['sqlite'];

export const TEST_JWT_SECRET = 'test-secret-test-secret-test-secret!';

export interface TestApp {
  app: FastifyInstance;
  config: Config;
  dialect: DialectName;
  dataDir: string;
  /** The app's own database handle: to look at what is stored, or to set data up directly. */
  database: Database;
  /** The same database as a `--database` value for the CLI (PostgreSQL: the schema in the URL). */
  databaseArg: string;
  /** A valid Bearer header for `username` (its user and namespace appear on first use). */
  auth(username: string): Promise<Record<string, string>>;
  inject(options: InjectOptions): Promise<LightMyRequestResponse>;
  /** Another app on the same database, with its own pool: a second server process, as far as the app can tell. */
  peer(): Promise<FastifyInstance>;
  close(): Promise<void>;
}

/**
 * A fresh app on a fresh database: a temp dir for SQLite, a new schema for PostgreSQL (dropped when the run ends).
 * `env` overrides configuration the way a user's environment would.
 */
export async function createTestApp(dialect: DialectName, env: NodeJS.ProcessEnv = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'dreamlake-test-'));
  let schema: string | undefined;
  let databaseUrl = join(dataDir, 'dreamlake.sqlite');
  if (dialect === 'postgres') {
    if (!PG_URL) throw new Error('DREAMLAKE_TEST_POSTGRES_URL is not set');
    schema = await createTestSchema();
    databaseUrl = PG_URL;
  }
  const config = loadConfig(
    { data: dataDir, database: databaseUrl },
    { DREAMLAKE_JWT_SECRET: TEST_JWT_SECRET, ...env },
  );
  const open = async () => {
    const database = createDatabase(config.databaseUrl, { schema, poolSize: 5, sqliteSynchronous: config.sqliteSynchronous });
    const app = await buildApp(config, { database, logger: false });
    await app.ready();
    return { app, database };
  };
  const { app, database } = await open();
  const peers: FastifyInstance[] = [];

  return {
    app,
    config,
    dialect,
    dataDir,
    database,
    databaseArg: schema ? urlWithSchema(schema) : databaseUrl,
    async auth(username: string) {
      return { authorization: `Bearer ${await signToken(TEST_JWT_SECRET, username, 1)}` };
    },
    inject: (options) => app.inject(options),
    async peer() {
      const peer = (await open()).app;
      peers.push(peer);
      return peer;
    },
    async close() {
      for (const peer of peers) await peer.close();
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
