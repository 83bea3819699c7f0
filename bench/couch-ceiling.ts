// The client's ceiling for a pull: stock PouchDB replicating from a "server" that answers in no time. Its http adapter
// gets a `fetch` that answers from memory in this process (the answers to pull are made before the clock
// starts), so what is timed is PouchDB alone: its requests, JSON, revision bookkeeping and local writes. No
// server, however fast, makes this client replicate faster than these docs/s.
import PouchDB from 'pouchdb';
import { pushedDoc } from './couch-replay.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
const json = (body: unknown, status = 200) => new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** A database held in memory that answers PouchDB's replication requests with `docs`. */
function instantServer(docs: Record<string, unknown>[], batch: number) {
  const stored = docs.map(pushedDoc);
  const changes = new Map<string, string>();
  const bulkGets = new Map<string, string>();
  for (let i = 0; i <= stored.length; i += batch) {
    const part = stored.slice(i, i + batch);
    const results = part.map((d, k) => ({ seq: String(i + k + 1), id: d._id, changes: [{ rev: d._rev }] }));
    changes.set(String(i), JSON.stringify({ results, last_seq: String(i + part.length), pending: 0 }));
    if (part.length) bulkGets.set(part[0]._id as string, JSON.stringify({ results: part.map((d) => ({ id: d._id, docs: [{ ok: d }] })) }));
  }
  const locals = new Map<string, any>();
  const info = JSON.stringify({ db_name: 'instant', doc_count: stored.length, update_seq: String(stored.length) });
  return async (url: string, options: any): Promise<Response> => {
    const u = new URL(url);
    const path = u.pathname.replace(/^\/instant\/?/, '');
    const method = options?.method ?? 'GET';
    const body = typeof options?.body === 'string' ? options.body : undefined;
    if (path === '' || path === '/') return method === 'PUT' ? json({ ok: true }, 201) : json(info);
    if (path === '_changes') return json(changes.get(u.searchParams.get('since') ?? '0') ?? { results: [], last_seq: String(stored.length) });
    if (path === '_bulk_get') return json(bulkGets.get(/"id":"([^"]+)"/.exec(body!)![1])!);
    if (path === '_revs_diff') return json(Object.fromEntries(Object.entries(JSON.parse(body!)).map(([id, revs]) => [id, { missing: revs }])));
    if (path === '_bulk_docs') return json('[]', 201);
    if (path.startsWith('_local/')) {
      if (method === 'GET') return locals.has(path) ? json(locals.get(path)) : json({ error: 'not_found', reason: 'missing' }, 404);
      const doc = JSON.parse(body!);
      const rev = `0-${Number(String(locals.get(path)?._rev ?? '0-0').slice(2)) + 1}`;
      locals.set(path, { ...doc, _rev: rev });
      return json({ ok: true, id: doc._id, rev }, 201);
    }
    if (u.pathname === '/') return json({ couchdb: 'Welcome', version: '3.3.3', uuid: 'instant' });
    return json({ error: 'not_found', reason: `${method} ${u.pathname}` }, 404);
  };
}

async function timed(what: () => Promise<{ docs_written: number }>, n: number): Promise<number> {
  const started = performance.now();
  const result = await what();
  if (result.docs_written !== n) throw new Error(`replicated ${result.docs_written} of ${n} documents`);
  return n / ((performance.now() - started) / 1000);
}

/**
 * docs/s of PouchDB pulling `docs` into a new local database from an instant server: the better of two runs
 * (a bound), after one untimed pull of 2,000 documents. Only pull: the same client pushing to this instant
 * server measured half the docs/s it reaches pushing to a real one (its local reads then overlap the server's
 * work; here they cannot), so a push figure from it would be no bound at all.
 */
export async function clientCeiling(docs: Record<string, unknown>[], local: () => any, batch: number): Promise<number> {
  const remote = (fetch: unknown) => new PouchDB('http://instant.invalid/instant', { fetch } as any);
  await local().replicate.from(remote(instantServer(docs.slice(0, 2000), batch)), { batch_size: batch });
  let pull = 0;
  for (let run = 0; run < 2; run++) {
    pull = Math.max(pull, await timed(() => local().replicate.from(remote(instantServer(docs, batch)), { batch_size: batch }), docs.length));
  }
  return pull;
}
