import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/core/config.js';
import { createDatabase, type Database, type DialectName } from '../../src/core/db/database.js';
import { scriptDb, type ScriptDb } from '../../src/script/db.js';
import { createKey, type NewKey } from '../../src/script/keys/repo.js';
import { PG_URL } from '../helpers/app.js';
import { createTestSchema, urlWithSchema } from '../helpers/pg.js';

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
    schema = await createTestSchema();
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
  const databaseArg = schema ? urlWithSchema(schema) : databaseUrl;

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
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
