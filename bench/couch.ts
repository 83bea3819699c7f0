// PouchDB replicating with the Dreamscript CouchDB endpoint (/dreamscript/couch) and with pouchdb-server,
// in the same run, with the same client: stock `pouchdb` with the in-memory adapter, in this process (core 1),
// the servers as child processes on core 0. Pull and push of 10,000 and 100,000 documents (docs/s and the
// ratio), then the latency of a live change: a write on the server until a live PouchDB pull has it.
// Two more figures put the end-to-end ones in proportion: the client's ceiling for a pull (PouchDB pulling
// from a server that answers instantly, couch-ceiling.ts) and each server's own docs/s for the same requests
// made with plain fetch (couch-replay.ts). Every server gets the same client, settings and requests.
// DREAMSCRIPT_BENCH_COUCH_DOCS=10000 limits the sizes (comma-separated); DREAMSCRIPT_BENCH_POUCHDB=0 skips
// pouchdb-server.
import PouchDB from 'pouchdb';
import memory from 'pouchdb-adapter-memory';
import { scriptDb } from '../src/script/db.js';
import { createKey } from '../src/script/keys/repo.js';
import { clientCeiling } from './couch-ceiling.js';
import { pushedDoc, replayPull, replayPush } from './couch-replay.js';
import { startTarget, type DialectName } from './lib.js';
import { startPouch } from './script.js';

PouchDB.plugin(memory);

/* eslint-disable @typescript-eslint/no-explicit-any */
type Pouch = any;

const SIZES = (process.env.DREAMSCRIPT_BENCH_COUCH_DOCS ?? '10000,100000').split(',').map(Number).filter((n) => n > 0);
const BATCH = 1000;
const LIVE_CHANGES = 200;
const CONTENT = 'step1: load data\nstep2: transform\nstep3: visualize\n';

interface Server {
  name: string;
  label: string;
  /** URL of a database named `db`, for fetch (credentials in `headers`). */
  url(db: string): string;
  /** A PouchDB handle on that database (credentials in the URL, as a replicator has them). */
  pouch(db: string): Pouch;
  headers: Record<string, string>;
  close(): Promise<void>;
}

let counter = 0;
const local = (): Pouch => new PouchDB(`bench-${process.pid}-${counter++}`, { adapter: 'memory' });
const doc = (i: number) => ({ _id: `doc-${String(i).padStart(7, '0')}`, title: `doc ${i}`, content: CONTENT, n: i });

async function seedServer(s: Server, db: string, n: number) {
  await fetch(s.url(db), { method: 'PUT', headers: s.headers });
  for (let i = 0; i < n; i += 5000) {
    const docs = Array.from({ length: Math.min(5000, n - i) }, (_, k) => doc(i + k));
    const res = await fetch(`${s.url(db)}/_bulk_docs`, { method: 'POST', headers: s.headers, body: JSON.stringify({ docs }) });
    if (res.status !== 201) throw new Error(`${s.name} seed: ${res.status} ${await res.text()}`);
  }
}

async function timed(what: () => Promise<{ docs_written: number }>, n: number): Promise<number> {
  const started = performance.now();
  const result = await what();
  const seconds = (performance.now() - started) / 1000;
  if (result.docs_written !== n) throw new Error(`replicated ${result.docs_written} of ${n} documents`);
  return n / seconds;
}

async function liveLatency(s: Server, db: string): Promise<{ p50: number; p99: number }> {
  await fetch(s.url(db), { method: 'PUT', headers: s.headers });
  const target = local();
  const arrivals = new Map<string, () => void>();
  const feed = target.replicate.from(s.pouch(db), { live: true, retry: true, batch_size: 100 });
  feed.on('change', (info: { docs: { _id: string }[] }) => {
    for (const d of info.docs) arrivals.get(d._id)?.();
  });
  await new Promise((r) => setTimeout(r, 500));
  const times: number[] = [];
  try {
    for (let i = 0; i < LIVE_CHANGES; i++) {
      const id = `live-${i}`;
      const arrived = new Promise<void>((resolve) => arrivals.set(id, resolve));
      const started = performance.now();
      const res = await fetch(`${s.url(db)}/${id}`, { method: 'PUT', headers: s.headers, body: JSON.stringify({ title: id }) });
      if (res.status !== 201) throw new Error(`${s.name} live write: ${res.status}`);
      await arrived;
      times.push(performance.now() - started);
    }
  } finally {
    feed.cancel();
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => Math.round(times[Math.min(times.length - 1, Math.floor(q * times.length))] * 10) / 10;
  return { p50: at(0.5), p99: at(0.99) };
}

async function measureSize(s: Server, n: number, source: Pouch, figures: Record<string, number>) {
  await seedServer(s, `pull${n}`, n);
  const pull = await timed(() => local().replicate.from(s.pouch(`pull${n}`), { batch_size: BATCH }), n);
  console.log(`${s.name.padEnd(20)} pull ${String(n).padStart(7)} docs  ${Math.round(pull).toString().padStart(6)} docs/s`);
  figures[`pull ${n}`] = pull;
  const push = await timed(() => source.replicate.to(s.pouch(`push${n}`), { batch_size: BATCH }), n);
  console.log(`${s.name.padEnd(20)} push ${String(n).padStart(7)} docs  ${Math.round(push).toString().padStart(6)} docs/s`);
  figures[`push ${n}`] = push;
  const target = { url: s.url(`pull${n}`), headers: s.headers };
  const replayedPull = await timed(async () => ({ docs_written: await replayPull(target, BATCH) }), n);
  await fetch(s.url(`replay-push${n}`), { method: 'PUT', headers: s.headers });
  const pushed = Array.from({ length: n }, (_, i) => pushedDoc(doc(i)));
  const replayedPush = await timed(async () => ({ docs_written: await replayPush({ url: s.url(`replay-push${n}`), headers: s.headers }, pushed, BATCH) }), n);
  console.log(`${s.name.padEnd(20)} server alone (plain fetch, PouchDB's requests): pull ${Math.round(replayedPull)} docs/s, push ${Math.round(replayedPush)} docs/s`);
  figures[`server pull ${n}`] = replayedPull;
  figures[`server push ${n}`] = replayedPush;
}

export async function run(dialects: DialectName[]): Promise<void> {
  // One local source per size, filled once, pushed to every server (a push never changes its source).
  const sources = new Map<number, Pouch>();
  for (const n of SIZES) {
    const db = local();
    for (let i = 0; i < n; i += 5000) await db.bulkDocs(Array.from({ length: Math.min(5000, n - i) }, (_, k) => doc(i + k)));
    sources.set(n, db);
  }
  // Every server up at once (idle ones cost nothing), then each scenario on each in turn, smallest first.
  const servers: Server[] = [];
  const results: Record<string, Record<string, number>> = {};
  const ceilings: Record<string, number> = {};
  try {
    for (const dialect of dialects) {
      const target = await startTarget(dialect);
      const { secret } = await createKey(scriptDb(target.database), { name: 'bench', admin: true });
      const withKey = target.url.replace('http://', `http://bench:${secret}@`);
      servers.push({
        name: `dreamscript ${dialect}`,
        label: dialect,
        url: (db) => `${target.url}/dreamscript/couch/${db}`,
        pouch: (db) => new PouchDB(`${withKey}/dreamscript/couch/${db}`),
        headers: { 'x-api-key': secret, 'content-type': 'application/json' },
        close: () => target.close(),
      });
    }
    const pouch = await startPouch();
    if (pouch) {
      const base = pouch.subject.base;
      servers.push({
        name: 'pouchdb-server',
        label: 'pouchdb',
        url: (db) => `${base}/${db}`,
        pouch: (db) => new PouchDB(`${base}/${db}`),
        headers: { 'content-type': 'application/json' },
        close: pouch.close,
      });
    }
    for (const s of servers) results[s.label] = {};
    for (const s of servers) {
      const live = await liveLatency(s, 'live');
      console.log(`${s.name.padEnd(20)} live change → waiting PouchDB (${LIVE_CHANGES} writes): p50 ${live.p50} ms  p99 ${live.p99} ms`);
      results[s.label]['live p99 ms'] = live.p99;
    }
    for (const n of SIZES) {
      const ceiling = await clientCeiling(Array.from({ length: n }, (_, i) => doc(i)), local, BATCH);
      console.log(`client ceiling (PouchDB pulling from an instant server) ${String(n).padStart(7)} docs: ${Math.round(ceiling)} docs/s`);
      ceilings[`pull ${n}`] = ceiling;
      for (const s of servers) await measureSize(s, n, sources.get(n), results[s.label]);
    }
  } finally {
    for (const s of servers) await s.close().catch(() => {});
  }
  if (!results.pouchdb) return;
  console.log('\nDreamscript ÷ pouchdb-server, same client, same run (> 1: Dreamscript is faster; for latency, < 1 is better):');
  for (const scenario of Object.keys(results.pouchdb)) {
    const ratios = dialects.map((d) => `${d} ${(results[d][scenario] / results.pouchdb[scenario]).toFixed(2)}×`);
    // With PouchDB as the client, no server can do better than the client's ceiling.
    const bound = ceilings[scenario] ? `   (client ceiling ÷ pouchdb-server: ${(ceilings[scenario] / results.pouchdb[scenario]).toFixed(2)}×)` : '';
    console.log(`  ${scenario.padEnd(17)} ${ratios.join('   ')}${bound}`);
  }
}
