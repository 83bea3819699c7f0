import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, expect } from 'vitest';
import type { Config } from '../../src/core/config.js';
import type { DialectName } from '../../src/core/db/database.js';
import { scriptDb, type ScriptDb } from '../../src/script/db.js';
import { createKey, type NewKey } from '../../src/script/keys/repo.js';
import { createTestApp } from '../helpers/app.js';

export { DIALECTS } from '../helpers/app.js';

export const BASE = '/dreamscript';

/**
 * A test app seen from Dreamscript: its tables (to mint keys and look at what is stored), calls under the
 * mount, and peers (a second app on the same database, with its own pool and LISTEN connection, standing
 * in for another server process).
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
  /** A call to the CouchDB endpoint (`url` under /dreamscript/couch) as `secret`: an object payload goes as JSON, a string or Buffer as it is. */
  couch(secret: string, method: string, url: string, payload?: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  /** SQL statements sent so far (both apps of a peer pair count apart), to compare what requests cost. */
  statements(): number;
  peer(): Promise<FastifyInstance>;
  close(): Promise<void>;
}

/** createTestApp, with the Dreamscript table handle, keys and calls under the mount. */
export async function createScriptTestApp(dialect: DialectName, env: NodeJS.ProcessEnv = {}): Promise<ScriptTestApp> {
  const t = await createTestApp(dialect, env);
  const db = scriptDb(t.database);

  return {
    app: t.app,
    config: t.config,
    dialect,
    db,
    databaseArg: t.databaseArg,
    async key(options = { admin: true }) {
      return (await createKey(db, options)).secret;
    },
    call(secret, options) {
      return t.app.inject({
        ...options,
        url: `${BASE}${options.url}`,
        headers: { 'x-api-key': secret, ...options.headers },
      });
    },
    couch(secret, method, url, payload, headers = {}) {
      const raw = typeof payload === 'string' || Buffer.isBuffer(payload);
      return t.app.inject({
        method: method as 'GET',
        url: `${BASE}/couch${url}`,
        headers: { 'x-api-key': secret, ...(payload !== undefined && !raw && { 'content-type': 'application/json' }), ...headers },
        ...(payload !== undefined && { payload: raw ? payload : JSON.stringify(payload) }),
      });
    },
    statements: () => t.database.statements.count,
    peer: () => t.peer(),
    close: () => t.close(),
  };
}

/** A CouchDB endpoint test's fixture, filled in its beforeAll: an app, an admin key and a read-only one, and one database. */
export interface CouchFixture {
  t: ScriptTestApp;
  key: string;
  reader: string;
  /** ScriptTestApp.couch as the admin key, or as `secret`. */
  couch(method: string, url: string, payload?: unknown, headers?: Record<string, string>, secret?: string): Promise<LightMyRequestResponse>;
}

/** Registers the hooks that make (and close) a CouchFixture with database `db`, the rate limit off. */
export function couchFixture(dialect: DialectName, db: string): CouchFixture {
  const f = {
    couch: (method, url, payload, headers, secret) => f.t.couch(secret ?? f.key, method, url, payload, headers),
  } as CouchFixture;
  beforeAll(async () => {
    f.t = await createScriptTestApp(dialect, { DREAMSCRIPT_RATE_LIMIT: '0' });
    f.key = await f.t.key();
    f.reader = await f.t.key({ readOnly: true });
    expect((await f.couch('PUT', `/${db}`)).statusCode).toBe(201);
  });
  afterAll(async () => f.t.close());
  return f;
}
