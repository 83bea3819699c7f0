import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pausedGet, socketQueues } from '../helpers/raw-http.js';
import { createScriptTestApp, DIALECTS, type ScriptTestApp } from '../script/helpers.js';

// A CouchDB longpoll that finds changes answers all of them at once: from since=0 that is the whole database. It
// was built whole in memory (a 400 MB database took the server from 0.4 to 2 GB, and one past V8's longest string
// could not be answered at all); it is now sent a page at a time as the client reads, like the normal feed.
const DOCS = 5000;
const FILLER = 'x'.repeat(5000); // ~25 MB of changes with include_docs; a page (100 changes) is ~0.5 MB

describe.each(DIALECTS)('CouchDB longpoll answers of more than a page (%s)', (dialect) => {
  let t: ScriptTestApp;
  let key: string;
  let origin: URL;
  let queued: () => number;
  const headers = () => ({ 'x-api-key': key, 'content-type': 'application/json' });
  const bulk = async (db: string, from: number, count: number) => {
    const docs = Array.from({ length: count }, (_, i) => ({ _id: `doc-${String(from + i).padStart(5, '0')}`, filler: FILLER }));
    const res = await fetch(new URL(`/dreamscript/couch/${db}/_bulk_docs`, origin), { method: 'POST', headers: headers(), body: JSON.stringify({ docs }) });
    expect(res.status).toBe(201);
  };
  beforeAll(async () => {
    t = await createScriptTestApp(dialect, { DREAMSCRIPT_RATE_LIMIT: '0' });
    key = await t.key();
    origin = new URL(await t.app.listen({ port: 0, host: '127.0.0.1' }));
    queued = socketQueues(t.app);
    for (const db of ['lp', 'wake']) expect((await fetch(new URL(`/dreamscript/couch/${db}`, origin), { method: 'PUT', headers: headers() })).status).toBe(201);
    for (let from = 0; from < DOCS; from += 1000) await bulk('lp', from, 1000);
  }, 60_000);
  afterAll(async () => {
    t.app.server.closeAllConnections();
    await t.close();
  });

  const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `doc-${String(from + i).padStart(5, '0')}`);
  type Feed = { results: { id: string; seq: string; doc?: { filler: string } }[]; last_seq: string; pending: number };

  it('since=0 over the whole database: about a page queued for a paused reader, then every change in one valid answer', async () => {
    const answer = await pausedGet(origin, { 'x-api-key': key }, '/dreamscript/couch/lp/_changes?feed=longpoll&include_docs=true&since=0', queued, 2000);
    // Before: the whole ~25 MB answer sat in the server's socket queue.
    expect(answer.held).toBeGreaterThan(0);
    expect(answer.held).toBeLessThan(8 * 1024 * 1024);
    expect(answer.head).toMatch(/^HTTP\/1\.1 200/);
    const body = JSON.parse(answer.body) as Feed;
    expect(body.results.map((r) => r.id)).toEqual(ids(0, DOCS));
    expect(body.results.every((r) => r.doc?.filler === FILLER)).toBe(true);
    expect(body.last_seq).toBe(body.results.at(-1)!.seq);
    expect(body.pending).toBe(0);
  }, 60_000);

  it('limit still counts across pages; a short limit is one page', async () => {
    for (const limit of [250, 7]) {
      const res = await fetch(new URL(`/dreamscript/couch/lp/_changes?feed=longpoll&include_docs=true&since=0&limit=${limit}`, origin), { headers: headers() });
      const body = (await res.json()) as Feed;
      expect(body.results.map((r) => r.id)).toEqual(ids(0, limit));
      expect(body.last_seq).toBe(body.results.at(-1)!.seq);
    }
  }, 30_000);

  it('a waiting longpoll woken by a batch of more than a page answers the whole batch', async () => {
    const since = ((await (await fetch(new URL('/dreamscript/couch/wake', origin), { headers: headers() })).json()) as { update_seq: string }).update_seq;
    const waiting = fetch(new URL(`/dreamscript/couch/wake/_changes?feed=longpoll&include_docs=true&since=${since}&timeout=20000`, origin), { headers: headers() });
    await new Promise((r) => setTimeout(r, 300));
    await bulk('wake', 0, 450);
    const body = (await (await waiting).json()) as Feed;
    expect(body.results.map((r) => r.id)).toEqual(ids(0, 450));
    expect(body.last_seq).toBe(body.results.at(-1)!.seq);
  }, 30_000);

  it('nothing new before the timeout: an empty answer at the same sequence', async () => {
    const res = await fetch(new URL('/dreamscript/couch/lp/_changes?feed=longpoll&since=now&timeout=200', origin), { headers: headers() });
    const body = (await res.json()) as Feed;
    expect(body.results).toEqual([]);
    expect(Number(body.last_seq)).toBeGreaterThan(0);
  });
});
