// Where the time of a live change goes (issue 13, goal "p99 < 50 ms"): a write on the server until a live
// PouchDB pull has it, split into the requests PouchDB makes on the way, timed by wrapping PouchDB's fetch.
// Run: node --import tsx bench/couch-live-probe.ts [sqlite|postgres] [changes=150] [gap-ms=0]
// gap-ms 0 writes back to back as bench/couch.ts does (the next write overlaps PouchDB's checkpoint of the
// previous batch); a gap of 100 ms measures an isolated change.
//   put          the PUT of the document (server write round trip, from this process)
//   feed         PUT answered → the waiting longpoll _changes answered (the server's wake-up path)
//   client       _changes answered → _bulk_get sent (PouchDB: batching, local _revs_diff, and waiting for the
//                checkpoint of the previous batch, which it writes before starting the next)
//   bulk_get     the _bulk_get round trip
//   local_write  _bulk_get answered → PouchDB's 'change' event (its local write)
import PouchDB from 'pouchdb';
import memory from 'pouchdb-adapter-memory';
import { scriptDb } from '../src/script/db.js';
import { createKey } from '../src/script/keys/repo.js';
import { startTarget, type DialectName } from './lib.js';

PouchDB.plugin(memory);

/* eslint-disable @typescript-eslint/no-explicit-any */
const dialect = (process.argv[2] ?? 'sqlite') as DialectName;
const N = Number(process.argv[3] ?? 150);
const GAP = Number(process.argv[4] ?? 0);

const target = await startTarget(dialect);
const { secret } = await createKey(scriptDb(target.database), { name: 'bench', admin: true });
const withKey = target.url.replace('http://', `http://bench:${secret}@`);
const headers = { 'x-api-key': secret, 'content-type': 'application/json' };
const url = `${target.url}/dreamscript/couch/live`;
await fetch(url, { method: 'PUT', headers });

let t0 = 0;
let ev: Record<string, number> = {};
const phases: Record<string, number[]> = {};
const timedFetch = async (u: string, o: any) => {
  const started = performance.now() - t0;
  const res = await (PouchDB as any).fetch(u, o);
  const ended = performance.now() - t0;
  if (u.includes('feed=') && ev.changes === undefined) ev.changes = ended;
  if (u.includes('_bulk_get')) Object.assign(ev, { bulkStart: started, bulkEnd: ended });
  return res;
};
const local = new PouchDB(`probe-${process.pid}`, { adapter: 'memory' });
const arrivals = new Map<string, () => void>();
const feed = local.replicate.from(new PouchDB(`${withKey}/dreamscript/couch/live`, { fetch: timedFetch } as any), { live: true, retry: true, batch_size: 100 });
feed.on('change', (info: { docs: { _id: string }[] }) => {
  for (const d of info.docs) arrivals.get(d._id)?.();
});
await new Promise((r) => setTimeout(r, 500));

const totals: number[] = [];
for (let i = 0; i < N; i++) {
  const id = `live-${i}`;
  const arrived = new Promise<void>((resolve) => arrivals.set(id, resolve));
  ev = {};
  t0 = performance.now();
  const res = await fetch(`${url}/${id}`, { method: 'PUT', headers, body: JSON.stringify({ title: id }) });
  await res.text();
  const put = performance.now() - t0;
  await arrived;
  const total = performance.now() - t0;
  totals.push(total);
  const phase = { put, feed: ev.changes - put, client: ev.bulkStart - ev.changes, bulk_get: ev.bulkEnd - ev.bulkStart, local_write: total - ev.bulkEnd };
  for (const [k, v] of Object.entries(phase)) if (Number.isFinite(v)) (phases[k] ??= []).push(v);
  if (GAP) await new Promise((r) => setTimeout(r, GAP));
}
feed.cancel();
await new Promise((r) => setTimeout(r, 200));

const at = (v: number[], q: number) => [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.floor(q * v.length))].toFixed(1);
console.log(`${dialect}, ${N} changes, gap ${GAP} ms`);
for (const [k, v] of Object.entries(phases)) console.log(`  ${k.padEnd(12)} p50 ${at(v, 0.5).padStart(6)}  p90 ${at(v, 0.9).padStart(6)}  p99 ${at(v, 0.99).padStart(6)} ms`);
console.log(`  ${'total'.padEnd(12)} p50 ${at(totals, 0.5).padStart(6)}  p90 ${at(totals, 0.9).padStart(6)}  p99 ${at(totals, 0.99).padStart(6)} ms`);
await target.close();
process.exit(0);
