// Where the server's time goes in a replayed PouchDB push and pull (couch-replay.ts), in one process: for each
// kind of request, how many were made, the server's mean time per request (from onRequest to onResponse),
// its SQL statements per request and the time those statements took. Not part of `npm run bench`: a tool
// for working on the couch endpoint. Run it with `node --cpu-prof` for a profile.
//   npx tsx bench/couch-profile.ts sqlite|postgres [documents]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/core/config.js';
import { createDatabase, observeQueries } from '../src/core/db/database.js';
import { scriptDb } from '../src/script/db.js';
import { createKey } from '../src/script/keys/repo.js';
import { pushedDoc, replayPull, replayPush } from './couch-replay.js';
import { PG_URL } from './lib.js';

const dialect = process.argv[2] === 'postgres' ? 'postgres' : 'sqlite';
const n = Number(process.argv[3] ?? 10_000);
const BATCH = 1000;
const CONTENT = 'step1: load data\nstep2: transform\nstep3: visualize\n';
const doc = (i: number) => ({ _id: `doc-${String(i).padStart(7, '0')}`, title: `doc ${i}`, content: CONTENT, n: i });

const dataDir = mkdtempSync(join(tmpdir(), 'dreamlake-profile-'));
let url = join(dataDir, 'dreamlake.sqlite');
let schema: string | undefined;
const admin = async (text: string) => {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(text);
  await c.end();
};
if (dialect === 'postgres') {
  if (!PG_URL) throw new Error('DREAMLAKE_TEST_POSTGRES_URL is not set');
  schema = `profile_${Date.now().toString(36)}`;
  await admin(`create schema ${schema}`);
  url = PG_URL;
}
const config = loadConfig({}, { ...process.env, DREAMLAKE_DATA_DIR: dataDir, DREAMLAKE_DATABASE_URL: url, DREAMLAKE_JWT_SECRET: 'x'.repeat(40), DREAMSCRIPT_RATE_LIMIT: '0', DREAMLAKE_LOG_LEVEL: 'warn' });
const database = createDatabase(config.databaseUrl, { schema });
let dbTime = 0;
observeQueries(database, (ms) => (dbTime += ms));
// PostgreSQL: time per statement text (its first words), to see which statements of a request cost.
const byText = new Map<string, { count: number; ms: number }>();
// CPU time is the steadier figure on a busy machine: this process's, and that of its PostgreSQL backends.
const backends = new Set<number>();
database.pgPool?.on('connect', (client) => {
  void client.query('select pg_backend_pid() as pid').then((r) => backends.add(r.rows[0].pid as number));
  const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
  (client as unknown as { query: typeof query }).query = async (...args: unknown[]) => {
    const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text: string }).text;
    const key = text.replace(/\$\d+(, \$\d+)*/g, '$…').replace(/\(\$…\)(, \(\$…\))*/g, '(…)').slice(0, 110);
    const t = performance.now();
    try {
      return await query(...args);
    } finally {
      const e = byText.get(key) ?? { count: 0, ms: 0 };
      e.count++;
      e.ms += performance.now() - t;
      byText.set(key, e);
    }
  };
});
const app = await buildApp(config, { database, logger: false });

interface Stat {
  count: number;
  ms: number;
  statements: number;
  dbMs: number;
}
const stats = new Map<string, Stat>();
const started = new WeakMap<object, { at: number; statements: number; dbTime: number }>();
app.addHook('onRequest', async (request) => {
  started.set(request, { at: performance.now(), statements: database.statements.count, dbTime });
});
app.addHook('onResponse', async (request) => {
  const s = started.get(request)!;
  const key = `${request.method} ${request.routeOptions.url ?? request.url}`;
  const stat = stats.get(key) ?? { count: 0, ms: 0, statements: 0, dbMs: 0 };
  stat.count++;
  stat.ms += performance.now() - s.at;
  stat.statements += database.statements.count - s.statements;
  stat.dbMs += dbTime - s.dbTime;
  stats.set(key, stat);
});
const base = await app.listen({ port: 0, host: '127.0.0.1' });
const { secret } = await createKey(scriptDb(database), { name: 'profile', admin: true });
const headers = { 'x-api-key': secret, 'content-type': 'application/json' };
const dbUrl = (name: string) => `${base}/dreamscript/couch/${name}`;

function cpuMs() {
  let pgTicks = 0;
  for (const pid of backends) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      pgTicks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // a backend that ended
    }
  }
  const own = process.cpuUsage();
  return { node: (own.user + own.system) / 1000, pg: (pgTicks * 1000) / 100 };
}
let cpuAt = cpuMs();

function report(what: string, seconds: number) {
  const cpu = cpuMs();
  console.log(
    `${dialect} ${what} ${n}: ${Math.round(n / seconds)} docs/s (${seconds.toFixed(2)} s); CPU: this process ${Math.round(cpu.node - cpuAt.node)} ms, PostgreSQL ${Math.round(cpu.pg - cpuAt.pg)} ms`,
  );
  cpuAt = cpu;
  for (const [key, s] of [...stats].sort((a, b) => b[1].ms - a[1].ms)) {
    console.log(
      `  ${key.padEnd(40)} ×${String(s.count).padStart(4)}  ${(s.ms / s.count).toFixed(2).padStart(7)} ms  ${(s.statements / s.count).toFixed(1).padStart(5)} stmts  db ${(s.dbMs / s.count).toFixed(2).padStart(7)} ms`,
    );
  }
  stats.clear();
  for (const [key, e] of [...byText].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12)) {
    console.log(`    ${String(e.count).padStart(5)}× ${(e.ms / e.count).toFixed(2).padStart(7)} ms  ${key}`);
  }
  byText.clear();
}

try {
  await fetch(dbUrl('push'), { method: 'PUT', headers });
  const docs = Array.from({ length: n }, (_, i) => pushedDoc(doc(i)));
  stats.clear();
  cpuAt = cpuMs();
  let t = performance.now();
  await replayPush({ url: dbUrl('push'), headers }, docs, BATCH);
  report('push', (performance.now() - t) / 1000);
  t = performance.now();
  const read = await replayPull({ url: dbUrl('push'), headers }, BATCH);
  if (read !== n) throw new Error(`pulled ${read}`);
  report('pull', (performance.now() - t) / 1000);
} finally {
  await app.close();
  if (schema) await admin(`drop schema ${schema} cascade`);
  rmSync(dataDir, { recursive: true, force: true });
}
