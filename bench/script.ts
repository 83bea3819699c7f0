// Dreamscript database under load, on SQLite and PostgreSQL, and the same document workload against
// pouchdb-server (a CouchDB-compatible server) in the same run: document create, document get, a page walk
// over 100,000 documents (and concurrent reads of its pages), bulk create of 10,000 documents.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { scriptDb } from '../src/script/db.js';
import { createKey } from '../src/script/keys/repo.js';
import { countStatements, measure, printMeasurement, startBareFastify, startTarget, type BenchTarget, type DialectName } from './lib.js';

const SECONDS = 4;
const WALK_DOCS = 100_000;
const BULK = 1000;
const BULK_TOTAL = 10_000;
const PAGE = 1000;
const CONTENT = 'step1: load data\nstep2: transform\nstep3: visualize\n'.repeat(2);
const POUCH_DIR = resolve('node_modules/.cache/dreamlake-bench/pouchdb-server');
const POUCH_BIN = join(POUCH_DIR, 'node_modules/.bin/pouchdb-server');
const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;

/** One server under test, spoken to in its own dialect (Dreamscript or CouchDB). */
interface Subject {
  name: string;
  base: string;
  headers: Record<string, string>;
  createPath: string;
  getPath(id: string | number): string;
  bulkPath: string;
  bulkBody(docs: object[]): string;
  bulkIds(body: unknown): (string | number)[];
  /** First page; then, from each answer, its number of documents and the next page's URL (null at the end). */
  firstPage: string;
  readPage(res: Response, body: unknown): { count: number; next: string | null };
}

type Figures = Record<string, { rps: number; p99: number }>;

export async function run(dialects: DialectName[]): Promise<void> {
  const figures: Record<string, Figures> = {};
  // The ceiling, in the same run: absolute figures drift with the machine's load, ratios much less.
  const bare = await startBareFastify();
  try {
    await measure({ scenario: 'bare Fastify route (ceiling)', dialect: dialects[0], url: bare.url, seconds: SECONDS });
  } finally {
    await bare.close();
  }
  for (const dialect of dialects) {
    const target = await startTarget(dialect);
    try {
      const { secret } = await createKey(scriptDb(target.database), { name: 'bench', admin: true });
      figures[dialect] = await workload(dreamscript(target.url, secret), dialect);
      await statementsPerRequest(target, secret);
    } finally {
      await target.close();
    }
  }
  const pouch = await startPouch();
  if (!pouch) return;
  try {
    figures.pouchdb = await workload(pouch.subject, 'pouchdb');
  } finally {
    await pouch.close();
  }
  console.log('\nDreamscript ÷ pouchdb-server (same workload, same run; > 1 means Dreamscript is faster):');
  for (const scenario of Object.keys(figures.pouchdb)) {
    const ratios = dialects.map((d) => `${d} ${(figures[d][scenario].rps / figures.pouchdb[scenario].rps).toFixed(2)}×`);
    console.log(`  ${scenario.padEnd(42)} ${ratios.join('   ')}`);
  }
}

function dreamscript(url: string, secret: string): Subject {
  return {
    name: 'dreamscript',
    base: url,
    headers: { 'x-api-key': secret, 'content-type': 'application/json' },
    createPath: '/dreamscript/documents',
    getPath: (id) => `/dreamscript/documents/${id}`,
    bulkPath: '/dreamscript/documents/_bulk',
    bulkBody: (docs) => JSON.stringify({ docs }),
    bulkIds: (body) => (body as { results: { id: number }[] }).results.map((r) => r.id),
    firstPage: `/dreamscript/documents?limit=${PAGE}`,
    readPage: (res, body) => ({ count: (body as unknown[]).length, next: res.headers.get('x-next') }),
  };
}

async function workload(s: Subject, label: string): Promise<Figures> {
  const figures: Figures = {};
  const dialect = label as DialectName;

  // Bulk create: 10 requests of 1,000 documents, one after another, then the rest of the 100,000 to walk.
  const ids: (string | number)[] = [];
  const bulkTimes: number[] = [];
  for (let done = 0; done < WALK_DOCS; done += BULK) {
    const docs = Array.from({ length: BULK }, (_, i) => ({ title: `doc ${done + i}`, content: CONTENT }));
    const started = performance.now();
    const res = await fetch(s.base + s.bulkPath, { method: 'POST', headers: s.headers, body: s.bulkBody(docs) });
    if (res.status !== 201) throw new Error(`${s.name} bulk: ${res.status} ${await res.text()}`);
    ids.push(...s.bulkIds(await res.json()));
    if (done < BULK_TOTAL) bulkTimes.push(performance.now() - started);
  }
  figures[`bulk create ${BULK_TOTAL} docs (${BULK}/request)`] = report(dialect, `bulk create ${BULK_TOTAL} docs (${BULK}/request)`, bulkTimes, BULK);

  // Page walk: every page of 1,000 in order, following the server's own next-page link.
  const pageTimes: number[] = [];
  const pages: string[] = [];
  let seen = 0;
  for (let next: string | null = s.firstPage; next; ) {
    pages.push(next);
    const started = performance.now();
    const res = await fetch(s.base + next, { headers: s.headers });
    const page = s.readPage(res, await res.json());
    pageTimes.push(performance.now() - started);
    seen += page.count;
    next = page.next;
  }
  if (seen < WALK_DOCS) throw new Error(`${s.name} walk saw ${seen} documents`);
  figures[`page walk ${WALK_DOCS} docs (${PAGE}/page)`] = report(dialect, `page walk ${WALK_DOCS} docs (${PAGE}/page)`, pageTimes, PAGE);

  const pageReads = await measure({
    scenario: `page reads, any depth (${PAGE}/page)`,
    dialect,
    url: s.base,
    headers: s.headers,
    requests: pages.map((path) => ({ method: 'GET', path })),
    seconds: SECONDS,
  });
  figures['page reads, any depth'] = pageReads;

  const gets = await measure({
    scenario: 'document get',
    dialect,
    url: s.base,
    headers: s.headers,
    requests: ids.filter((_, i) => i % 1000 === 0).map((id) => ({ method: 'GET', path: s.getPath(id) })),
    seconds: SECONDS,
  });
  figures['document get'] = gets;

  const creates = await measure({
    scenario: 'document create',
    dialect,
    url: s.base + s.createPath,
    method: 'POST',
    headers: s.headers,
    body: JSON.stringify({ title: 'bench', content: CONTENT }),
    seconds: SECONDS,
  });
  figures['document create'] = creates;
  return figures;
}

/** Prints a sequential scenario in the shape of the others: requests/s, p50, p99 (and documents/s). */
function report(dialect: DialectName, scenario: string, times: number[], docsPerRequest: number) {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]);
  const total = times.reduce((a, b) => a + b, 0) / 1000;
  const m = { scenario, dialect, rps: Math.round((times.length / total) * 10) / 10, p50: at(0.5), p99: at(0.99), errors: 0, non2xx: 0 };
  printMeasurement(m, `${Math.round((times.length * docsPerRequest) / total)} docs/s, ${total.toFixed(1)} s in all, 1 connection`);
  return m;
}

async function statementsPerRequest(target: BenchTarget, secret: string) {
  const headers = { 'x-api-key': secret };
  const cases = [
    ['document create', { method: 'POST' as const, url: '/dreamscript/documents', headers, payload: { title: 'x', content: 'y' } }],
    ['document get', { method: 'GET' as const, url: '/dreamscript/documents/1', headers }],
    ['document page', { method: 'GET' as const, url: `/dreamscript/documents?limit=${PAGE}`, headers }],
    ['document update (If-Match)', { method: 'PATCH' as const, url: '/dreamscript/documents/2', headers: { ...headers, 'if-match': '*' }, payload: { title: 'z' } }],
  ] as const;
  const counts = [];
  for (const [name, request] of cases) {
    const { statements, status } = await countStatements(target, request);
    counts.push(`${name} ${statements} (${status})`);
  }
  console.log(`${target.dialect.padEnd(8)} SQL statements per request (key lookup and BEGIN/COMMIT included): ${counts.join(', ')}`);
}

/** pouchdb-server, installed on first use into node_modules/.cache (it compiles nothing we need; ~1 min). */
export async function startPouch(): Promise<{ subject: Subject; close(): Promise<void> } | null> {
  if (process.env.DREAMSCRIPT_BENCH_POUCHDB === '0') {
    console.log('\npouchdb-server comparison off (DREAMSCRIPT_BENCH_POUCHDB=0)');
    return null;
  }
  if (!existsSync(POUCH_BIN)) {
    console.log(`\nInstalling pouchdb-server into ${POUCH_DIR} for the comparison (once)…`);
    mkdirSync(POUCH_DIR, { recursive: true });
    writeFileSync(join(POUCH_DIR, 'package.json'), '{"private":true}\n');
    const npm = spawnSync('npm', ['install', '--no-audit', '--no-fund', 'pouchdb-server@^4'], { cwd: POUCH_DIR, stdio: 'inherit' });
    if (npm.status !== 0 || !existsSync(POUCH_BIN)) {
      console.log('pouchdb-server did not install: comparison skipped.');
      return null;
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'dreamscript-pouch-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const args = [POUCH_BIN, '--port', String(port), '--dir', dir, '--config', join(dir, 'config.json'), '--no-stdout-logs'];
  const child: ChildProcess = hasTaskset
    ? spawn('taskset', ['-c', '0', process.execPath, ...args], { cwd: dir, stdio: 'ignore' })
    : spawn(process.execPath, args, { cwd: dir, stdio: 'ignore' });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const up = await fetch(`${base}/`).then((r) => r.ok).catch(() => false);
    if (up) break;
    if (i > 100) throw new Error('pouchdb-server did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
  const created = await fetch(`${base}/bench`, { method: 'PUT' });
  if (!created.ok) throw new Error(`pouchdb-server: ${created.status} ${await created.text()}`);
  console.log(`\n== pouchdb-server ${(await (await fetch(`${base}/`)).json()).version} (leveldb on disk), same workload`);
  const subject: Subject = {
    name: 'pouchdb-server',
    base,
    headers: { 'content-type': 'application/json' },
    createPath: '/bench',
    getPath: (id) => `/bench/${id}`,
    bulkPath: '/bench/_bulk_docs',
    bulkBody: (docs) => JSON.stringify({ docs }),
    bulkIds: (body) => (body as { id: string }[]).map((r) => r.id),
    firstPage: `/bench/_all_docs?include_docs=true&limit=${PAGE + 1}`,
    // CouchDB paging: ask for one row more; its key starts the next page.
    readPage: (_res, body) => {
      const rows = (body as { rows: { id: string }[] }).rows;
      const next = rows.length > PAGE ? `/bench/_all_docs?include_docs=true&limit=${PAGE + 1}&startkey=${encodeURIComponent(JSON.stringify(rows[PAGE].id))}` : null;
      return { count: Math.min(rows.length, PAGE), next };
    },
  };
  return {
    subject,
    async close() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
