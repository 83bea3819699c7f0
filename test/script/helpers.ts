import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import { buildApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/core/config.js';
import { createDatabase, type Database, type DialectName } from '../../src/core/db/database.js';
import { scriptDb, type ScriptDb } from '../../src/script/db.js';
import { createKey, type NewKey } from '../../src/script/keys/repo.js';
import { PG_URL } from '../helpers/app.js';

export { DIALECTS } from '../helpers/app.js';

export const BASE = '/dreamscript';

/**
 * Like createTestApp, but keeps the database handle (to mint keys and look at what is stored) and can
 * start a peer: a second app on the same database, with its own pool and LISTEN connection, standing in
 * for another server process.
 */
export interface ScriptTestApp {
  app: FastifyInstance;
  config: Config;
  dialect: DialectName;
  db: ScriptDb;
  /** The same database as a `--database` value for the CLI (PostgreSQL: the schema in the URL). */
  databaseArg: string;
  /** The secret of a new key (admin unless `options` say otherwise). */
  key(options?: NewKey): Promise<string>;
  /** app.inject with `X-API-Key: secret` and the URL under the Dreamscript mount. */
  call(secret: string, options: InjectOptions & { url: string }): Promise<LightMyRequestResponse>;
  peer(): Promise<FastifyInstance>;
  close(): Promise<void>;
}

export async function createScriptTestApp(dialect: DialectName, env: NodeJS.ProcessEnv = {}): Promise<ScriptTestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'dreamscript-test-'));
  let schema: string | undefined;
  let databaseUrl = join(dataDir, 'dreamlake.sqlite');
  if (dialect === 'postgres') {
    if (!PG_URL) throw new Error('DREAMLAKE_TEST_POSTGRES_URL is not set');
    schema = `ds_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
    await adminQuery(`create schema ${schema}`);
    databaseUrl = PG_URL;
  }
  const config = loadConfig({ data: dataDir, database: databaseUrl }, { DREAMLAKE_JWT_SECRET: 'x'.repeat(32), ...env });
  const open = async () => {
    const database: Database = createDatabase(config.databaseUrl, { schema, poolSize: 5 });
    const app = await buildApp(config, { database, logger: false });
    await app.ready();
    return { app, database };
  };
  const main = await open();
  const peers: FastifyInstance[] = [];
  const db = scriptDb(main.database);
  let databaseArg = databaseUrl;
  if (schema) {
    const url = new URL(databaseUrl);
    url.searchParams.set('options', `-c search_path=${schema}`);
    databaseArg = url.toString();
  }

  return {
    app: main.app,
    config,
    dialect,
    db,
    databaseArg,
    async key(options = { admin: true }) {
      return (await createKey(db, options)).secret;
    },
    call(secret, options) {
      return main.app.inject({
        ...options,
        url: `${BASE}${options.url}`,
        headers: { 'x-api-key': secret, ...options.headers },
      });
    },
    async peer() {
      const { app } = await open();
      peers.push(app);
      return app;
    },
    async close() {
      for (const peer of peers) await peer.close();
      await main.app.close();
      if (schema) await adminQuery(`drop schema ${schema} cascade`);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function adminQuery(text: string) {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}
