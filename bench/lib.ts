import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import type { InjectOptions } from 'fastify';
import pg from 'pg';
import { buildApp } from '../src/app.js';
import { signToken } from '../src/core/auth/jwt.js';
import { loadConfig, type Config } from '../src/core/config.js';
import { createDatabase, type Database, type DialectName } from '../src/core/db/database.js';
import { migrateToLatest } from '../src/core/db/migrate.js';

export type { DialectName };

export const PG_URL = process.env.DREAMLAKE_TEST_POSTGRES_URL ?? process.env.DREAMLAKE_BENCH_POSTGRES_URL;
export const BENCH_JWT_SECRET = 'bench-secret-bench-secret-bench-secret';
export const BENCH_SPACE_TOKEN = 'bench-space-token';

const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;

/**
 * One benchmark target: a database (SQLite file or PostgreSQL schema) shared by an in-process handle, used to
 * seed data and count SQL statements, and by the real server started as a child process on core 0.
 */
export interface BenchTarget {
  dialect: DialectName;
  config: Config;
  /** In-process database handle on the same data (for seeding). */
  database: Database;
  /** Base URL of the child server, e.g. http://127.0.0.1:40123 */
  url: string;
  env: NodeJS.ProcessEnv;
  child: ChildProcess;
  token(username: string): Promise<string>;
  close(): Promise<void>;
}

export async function startTarget(dialect: DialectName, extraEnv: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []): Promise<BenchTarget> {
  const dataDir = mkdtempSync(join(tmpdir(), 'dreamlake-bench-'));
  let schema: string | undefined;
  let databaseUrl = join(dataDir, 'dreamlake.sqlite');
  if (dialect === 'postgres') {
    if (!PG_URL) throw new Error('DREAMLAKE_TEST_POSTGRES_URL is not set');
    schema = `bench_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 7)}`;
    await adminQuery(`create schema ${schema}`);
    const u = new URL(PG_URL);
    u.searchParams.set('options', `-c search_path=${schema}`);
    databaseUrl = u.toString();
  }
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DREAMLAKE_DATA_DIR: dataDir,
    DREAMLAKE_DATABASE_URL: databaseUrl,
    DREAMLAKE_JWT_SECRET: BENCH_JWT_SECRET,
    DREAMSPACE_APITOKEN: BENCH_SPACE_TOKEN,
    DREAMSCRIPT_RATE_LIMIT: '0',
    DREAMLAKE_LOG_LEVEL: 'warn',
    ...extraEnv,
  };
  const config = loadConfig({}, env);
  const database = createDatabase(config.databaseUrl, { schema });
  await migrateToLatest(database.db);

  const { child, url } = await spawnServer(env, nodeArgs);

  return {
    dialect,
    config,
    database,
    url,
    env,
    child,
    token: (username) => signToken(BENCH_JWT_SECRET, username, 1),
    async close() {
      await stopServer(child);
      await database.close();
      if (schema) await adminQuery(`drop schema ${schema} cascade`);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The real CLI server on core 0, with `env` (a target's, perhaps changed); resolves once it listens. */
export async function spawnServer(env: NodeJS.ProcessEnv, nodeArgs: string[] = []): Promise<{ child: ChildProcess; url: string }> {
  // The same V8 flags as bin/dreamlake.js's shebang and `npm start`, so the figures are those users get.
  const args = ['--max-semi-space-size=2', '--expose-gc', ...nodeArgs, 'bin/dreamlake.js', 'serve', '--port', '0'];
  const child = hasTaskset
    ? spawn('taskset', ['-c', '0', process.execPath, ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /http:\/\/\S+/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[0]);
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
  return { child, url };
}

export async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}

export interface Measurement {
  scenario: string;
  dialect: DialectName;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

export interface MeasureOptions {
  scenario: string;
  dialect: DialectName;
  url: string;
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  headers?: Record<string, string>;
  body?: string;
  /** Per-request bodies/paths (autocannon `requests`), for workloads that vary per call. */
  requests?: autocannon.Request[];
  seconds?: number;
  amount?: number;
  connections?: number;
}

/**
 * Keeps PostgreSQL off the server's core: the backends serving application "dreamlake" (the server's pool,
 * opened by a warm-up run) move to core 1, beside autocannon. Left to the scheduler they land on core 0 too and
 * take CPU from the server under test; on this 2-core VM that cost get-collection about a fifth of its
 * throughput and tripled its p99. Returns how many backends were moved.
 */
async function pinPostgresBackends(): Promise<number> {
  if (!PG_URL || !hasTaskset) return 0;
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>("select pid from pg_stat_activity where application_name = 'dreamlake'");
    return rows.filter((r) => spawnSync('taskset', ['-p', '-c', '1', String(r.pid)]).status === 0).length;
  } finally {
    await client.end();
  }
}

/** Drives one scenario with autocannon (in this process: run the bench itself on the other core). */
export async function measure(options: MeasureOptions): Promise<Measurement> {
  if (options.dialect === 'postgres') {
    // A warm-up opens the server's pool connections so that they can be pinned; only reads repeat harmlessly.
    const reads = (options.method ?? 'GET') === 'GET' && !options.requests;
    if (reads) await autocannon({ url: options.url, headers: options.headers, connections: options.connections ?? 10, duration: 1 });
    await pinPostgresBackends();
  }
  const result = await autocannon({
    url: options.url,
    method: options.method ?? 'GET',
    headers: options.headers,
    body: options.body,
    requests: options.requests,
    connections: options.connections ?? 10,
    ...(options.amount ? { amount: options.amount } : { duration: options.seconds ?? 5 }),
  });
  const m: Measurement = {
    scenario: options.scenario,
    dialect: options.dialect,
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
  printMeasurement(m);
  return m;
}

export function printMeasurement(m: Measurement, extra = '') {
  console.log(
    `${m.dialect.padEnd(8)} ${m.scenario.padEnd(44)} ${String(m.rps).padStart(7)} req/s  p50 ${String(m.p50).padStart(4)} ms  p99 ${String(m.p99).padStart(4)} ms` +
      (m.errors || m.non2xx ? `  (errors ${m.errors}, non-2xx ${m.non2xx})` : '') +
      (extra ? `  ${extra}` : ''),
  );
}

/**
 * Counts the SQL statements one request costs, by replaying it in-process against an app on the same data.
 * `request` is an app.inject() options object.
 */
export async function countStatements(target: BenchTarget, request: InjectOptions) {
  const count = async (responseCacheEntries: number) => {
    const database = target.dialect === 'postgres' ? createDatabase(target.config.databaseUrl) : target.database;
    const app = await buildApp({ ...target.config, responseCacheEntries }, { database, logger: false });
    try {
      await app.inject(request); // warm-up: user creation and caches
      const before = database.statements.count;
      const res = await app.inject(request);
      return { statements: database.statements.count - before, status: res.statusCode };
    } finally {
      if (target.dialect === 'postgres') await app.close();
    }
  };
  const cached = await count(target.config.responseCacheEntries);
  const uncached = await count(0);
  return { ...cached, uncached: uncached.statements };
}

/**
 * Statements of a repeated request as served (a response-cache hit on SQLite reads only the data version)
 * and with the cache off.
 */
export function describeStatements({ statements, uncached }: { statements: number; uncached: number }): string {
  return `${statements} SQL statement(s)/request, ${uncached} with the response cache off`;
}

export function dialectsToRun(): DialectName[] {
  return PG_URL ? ['sqlite', 'postgres'] : ['sqlite'];
}

/** One statement on a connection of its own (schemas made and dropped by the benchmarks). */
export async function adminQuery(text: string) {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/**
 * A bare Fastify server on core 0 (one GET /bare route with a response schema, no database, no auth): the
 * ceiling each scenario is compared with, measured in the same run because absolute figures drift ±15%.
 */
export async function startBareFastify(): Promise<{ url: string; close(): Promise<void> }> {
  const code = [
    "import Fastify from 'fastify';",
    'const app = Fastify({ logger: false });',
    "const schema = { response: { 200: { type: 'object', properties: { hello: { type: 'string' } } } } };",
    "app.get('/bare', { schema }, async () => ({ hello: 'world' }));",
    "console.log(await app.listen({ host: '127.0.0.1', port: 0 }));",
  ].join('\n');
  const args = ['--input-type=module', '-e', code];
  const child = hasTaskset
    ? spawn('taskset', ['-c', '0', process.execPath, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /http:\/\/\S+/.exec(out);
      if (match) resolve(`${match[0]}/bare`);
    });
    child.once('exit', (code) => reject(new Error(`bare Fastify exited with ${code}: ${out}`)));
  });
  return {
    url,
    async close() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
