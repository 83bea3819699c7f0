import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type LogEvent } from 'kysely';
import pg from 'pg';
import { isPostgresUrl } from '../config.js';
import { startCheckpointer } from './checkpointer.js';

export type DialectName = 'sqlite' | 'postgres';

/** Counts SQL statements sent to the database, so benchmarks can report round trips per request. */
export interface StatementCounter {
  count: number;
}

export interface Database {
  // The families narrow this to their own table types (see lake/db.ts, script/db.ts, space/db.ts).
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  db: Kysely<any>;
  dialect: DialectName;
  statements: StatementCounter;
  /** PostgreSQL only: a pool for LISTEN connections and the like; null on SQLite. */
  pgPool: pg.Pool | null;
  /**
   * A token that changes whenever the data may have changed: any write in this process and any commit by
   * another connection or process. Null when no such token is cheap (PostgreSQL, where replicas write
   * without telling us) or while a transaction is open. See core/response-cache.ts.
   */
  dataVersion(): string | null;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** PostgreSQL schema to use (tests give each file its own). */
  schema?: string;
  poolSize?: number;
  /** SQLite `PRAGMA synchronous` (default `normal`; `full` also survives a power loss, at a cost in writes). */
  sqliteSynchronous?: 'normal' | 'full';
  /** SQLite file: checkpoint the WAL in a worker thread instead of in commits (see checkpointer.ts). The server's. */
  backgroundCheckpoint?: boolean;
}

const queryObservers = new WeakMap<object, (durationMs: number) => void>();

/** Calls `observe` with the duration in milliseconds of every statement run on `database` (the metrics). */
export function observeQueries(database: Database, observe: (durationMs: number) => void): void {
  queryObservers.set(database.db, observe);
}

const pgTypes = {
  getTypeParser(oid: number, format?: string) {
    // int8 (20) and numeric (1700) as JS numbers: IDs are int64 but stay below 2^53 in practice.
    if (oid === 20 || oid === 1700) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

export function createDatabase(url: string, options: DatabaseOptions = {}): Database {
  const statements: StatementCounter = { count: 0 };
  // The Kysely instance below, once made: its query observer (if any) gets every statement's duration.
  let observed: object | undefined;
  const log = (event: LogEvent) => {
    statements.count++;
    if (observed) queryObservers.get(observed)?.(event.queryDurationMillis);
  };

  if (isPostgresUrl(url)) {
    const pool = new pg.Pool({
      connectionString: url,
      // Shows in pg_stat_activity; an application_name in the URL wins.
      application_name: 'dreamlake',
      max: options.poolSize ?? 10,
      types: pgTypes,
      ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    });
    pool.on('connect', preparedByName);
    // An idle connection that PostgreSQL closed (a restart, pg_terminate_backend, an idle timeout) is dropped by
    // the pool, which opens another when needed; unheard, its 'error' event would end the process.
    pool.on('error', () => {});
    const db = new Kysely({ dialect: new PostgresDialect({ pool }), log });
    observed = db;
    // Kysely's connection provider and logging cost about as much CPU as pg itself on a point read.
    directReads.set(db, async (text, parameters) => {
      statements.count++;
      const observe = queryObservers.get(db);
      const started = observe ? performance.now() : 0;
      const rows = (await queryByName((config) => pool.query(config), text, parameters as unknown[])).rows;
      observe?.(performance.now() - started);
      return rows;
    });
    return {
      db,
      dialect: 'postgres',
      statements,
      pgPool: pool,
      dataVersion: () => null,
      close: () => db.destroy(),
    };
  }

  if (url !== ':memory:') mkdirSync(dirname(url), { recursive: true });
  const sqlite = new SqliteDatabase(url);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma(options.sqliteSynchronous === 'full' ? 'synchronous = FULL' : 'synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  // Every statement that may write passes through the cache's prepare() (Kysely's driver and the direct
  // reads alike), so counting them there sees every write of this process; PRAGMA data_version sees the
  // commits of every other connection.
  let localWrites = 0;
  const cached = withStatementCache(sqlite, () => localWrites++);
  const otherCommits = sqlite.prepare('pragma data_version').pluck();
  const db = new Kysely({ dialect: new SqliteDialect({ database: cached }), log });
  observed = db;
  directReads.set(db, (text, parameters) => {
    // Inside someone's open transaction the read must queue behind it (Kysely's connection mutex).
    if (sqlite.inTransaction) return undefined;
    const statement = cached.prepare(text);
    if (!statement.reader) return undefined;
    statements.count++;
    const observe = queryObservers.get(db);
    if (!observe) return statement.all(parameters as unknown[]);
    const started = performance.now();
    const rows = statement.all(parameters as unknown[]);
    observe(performance.now() - started);
    return rows;
  });
  const checkpointer =
    options.backgroundCheckpoint && url !== ':memory:'
      ? startCheckpointer(
          url,
          () => sqlite.pragma('wal_autocheckpoint = 0'),
          () => sqlite.pragma('wal_autocheckpoint = 1000'),
        )
      : null;
  return {
    db,
    dialect: 'sqlite',
    statements,
    pgPool: null,
    dataVersion: () => {
      if (sqlite.inTransaction) return null;
      statements.count++;
      return `${localWrites}.${otherCommits.get() as number}`;
    },
    close: async () => {
      await checkpointer?.close();
      await db.destroy();
    },
  };
}

const STATEMENT_CACHE_LIMIT = 1000;

/**
 * Runs a statement outside any transaction and returns its rows, or undefined when it has to go through
 * Kysely. On SQLite only reads qualify, and they run synchronously.
 */
export type DirectRead = (sql: string, parameters: readonly unknown[]) => unknown[] | Promise<unknown[]> | undefined;

const directReads = new WeakMap<object, DirectRead>();

/**
 * The fast path for prepared statements run outside a transaction (transactions are a different Kysely
 * instance and have none). better-sqlite3 is synchronous, so a read gains nothing from Kysely's connection
 * mutex and driver promises, which cost about as much as the statement itself; on PostgreSQL the statement
 * goes straight to the pool, named like every other.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function directReadOf(db: Kysely<any>): DirectRead | undefined {
  return directReads.get(db);
}

/**
 * Kysely's SQLite driver prepares every statement on every call, which costs more than most point reads
 * themselves. Statements are keyed by their SQL text (values are always bound parameters), so the set of
 * distinct texts is bounded by the code; the limit only guards against a pathological caller.
 */
function withStatementCache(sqlite: SqliteDatabase.Database, onWrite: () => void) {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    prepare(sql: string) {
      let statement = cache.get(sql);
      if (!statement) {
        statement = sqlite.prepare(sql);
        if (cache.size >= STATEMENT_CACHE_LIMIT) cache.clear();
        cache.set(sql, statement);
      }
      // `readonly`, not `reader`: INSERT … RETURNING is a reader that writes.
      if (!statement.readonly) onWrite();
      return statement;
    },
    close() {
      cache.clear();
      sqlite.close();
    },
  };
}

const statementNames = new Map<string, string>();
/**
 * Statements with long `in (…)` lists differ in text with every list length; left unnamed, they cannot pile
 * up thousands of prepared plans per connection on the server.
 */
const MAX_NAMED_PARAMETERS = 32;

function statementName(text: string): string {
  let name = statementNames.get(text);
  if (!name) {
    name = `dl_${createHash('sha1').update(text).digest('base64url')}`;
    if (statementNames.size >= STATEMENT_CACHE_LIMIT) statementNames.clear();
    statementNames.set(text, name);
  }
  return name;
}

type QueryFn = (...args: unknown[]) => Promise<unknown>;

/**
 * Kysely sends every statement unnamed, so PostgreSQL parses and plans it again on each call; on point reads
 * that costs more than running it. Naming each parameterised statement by its text makes every pooled
 * connection parse and plan it once. Statements without parameters stay unnamed (they may hold several
 * commands, which only the simple protocol allows), and so do those with many (see MAX_NAMED_PARAMETERS).
 * A plan invalidated by a concurrent schema change is retried unnamed.
 */
function preparedByName(client: pg.PoolClient): void {
  const query = client.query.bind(client) as QueryFn;
  (client as unknown as { query: QueryFn }).query = (...args: unknown[]) => {
    const [text, values] = args;
    if (typeof text !== 'string' || !Array.isArray(values) || args.length > 2) return query(...args);
    return queryByName(query as (config: pg.QueryConfig) => Promise<pg.QueryResult>, text, values);
  };
}

function queryByName(query: (config: pg.QueryConfig) => Promise<pg.QueryResult>, text: string, values: unknown[]) {
  if (values.length === 0 || values.length > MAX_NAMED_PARAMETERS) return query({ text, values });
  return query({ name: statementName(text), text, values }).catch((err: { code?: string }) => {
    if (err?.code === '0A000') return query({ text, values });
    throw err;
  });
}
