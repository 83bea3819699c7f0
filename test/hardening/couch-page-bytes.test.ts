import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAGE_CONTENT_BYTES } from '../../src/script/couch/read.js';
import { pausedGet, pausedPost, socketQueues } from '../helpers/raw-http.js';
import { createScriptTestApp, DIALECTS, type ScriptTestApp } from '../script/helpers.js';

// Answers with documents' content go a page at a time, and a page is counted in documents (100): 100 documents of
// megabytes each were held, and queued for a reader, at once (100 of 4 MB took a server from 0.29 to 1.87 GB). A
// page now also ends at PAGE_CONTENT_BYTES of content (its first document comes whatever its size).
const DOCS = 40;
const FILLER = 'x'.repeat(1024 * 1024); // 40 MiB of documents: one page of 100 before, five of 8 MiB now

describe.each(DIALECTS)('CouchDB pages of large documents (%s)', (dialect) => {
  let t: ScriptTestApp;
  let key: string;
  let origin: URL;
  let queued: () => number;
  const headers = () => ({ 'x-api-key': key, 'content-type': 'application/json' });
  const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `big-${String(from + i).padStart(3, '0')}`);
  beforeAll(async () => {
    t = await createScriptTestApp(dialect, { DREAMSCRIPT_RATE_LIMIT: '0' });
    key = await t.key();
    origin = new URL(await t.app.listen({ port: 0, host: '127.0.0.1' }));
    queued = socketQueues(t.app);
    expect((await fetch(new URL('/dreamscript/couch/big', origin), { method: 'PUT', headers: headers() })).status).toBe(201);
    for (let from = 0; from < DOCS; from += 10) {
      const docs = ids(from, from + 10).map((_id, i) => ({ _id, n: from + i, filler: FILLER }));
      const res = await fetch(new URL('/dreamscript/couch/big/_bulk_docs', origin), { method: 'POST', headers: headers(), body: JSON.stringify({ docs }) });
      expect(res.status).toBe(201);
    }
  }, 120_000);
  afterAll(async () => {
    t.app.server.closeAllConnections();
    await t.close();
  });

  /** The answer to `path`, read by a client that first pauses 1.5 s, and what the server queued for it meanwhile. */
  const pausedRead = async (path: string) => {
    const answer = await pausedGet(origin, { 'x-api-key': key }, `/dreamscript/couch/big/${path}`, queued, 1500);
    expect(answer.head).toMatch(/^HTTP\/1\.1 200/);
    return answer;
  };
  type Doc = { _id: string; n: number; filler: string };
  const intact = (docs: (Doc | undefined)[]) => docs.every((d) => d?.filler === FILLER);

  it('normal _changes with include_docs: a page of content at most queued for a paused reader, then every change', async () => {
    const { held, body } = await pausedRead('_changes?include_docs=true');
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThan(PAGE_CONTENT_BYTES + 2 * FILLER.length); // before: all 40 MiB
    const feed = JSON.parse(body) as { results: { id: string; seq: string; doc: Doc }[]; last_seq: string };
    expect(feed.results.map((r) => r.id)).toEqual(ids(0, DOCS));
    expect(intact(feed.results.map((r) => r.doc))).toBe(true);
    expect(feed.last_seq).toBe(feed.results.at(-1)!.seq);
  }, 60_000);

  it('longpoll and continuous feeds with include_docs: the same bound, every change once', async () => {
    const longpoll = await pausedRead('_changes?feed=longpoll&include_docs=true&since=0');
    expect(longpoll.held).toBeLessThan(PAGE_CONTENT_BYTES + 2 * FILLER.length);
    expect((JSON.parse(longpoll.body) as { results: { id: string }[] }).results.map((r) => r.id)).toEqual(ids(0, DOCS));
    const continuous = await pausedRead('_changes?feed=continuous&include_docs=true&since=0&timeout=500');
    expect(continuous.held).toBeLessThan(PAGE_CONTENT_BYTES + 2 * FILLER.length);
    const lines = continuous.body.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id?: string; doc?: Doc; last_seq?: string });
    expect(lines.filter((l) => l.id).map((l) => l.id)).toEqual(ids(0, DOCS));
    expect(intact(lines.filter((l) => l.id).map((l) => l.doc))).toBe(true);
    expect(lines.at(-1)!.last_seq).toBeDefined();
  }, 60_000);

  it('_all_docs with include_docs: the same bound; limit and skip count across pages cut by size', async () => {
    const all = await pausedRead('_all_docs?include_docs=true');
    expect(all.held).toBeLessThan(PAGE_CONTENT_BYTES + 2 * FILLER.length);
    const rows = (JSON.parse(all.body) as { total_rows: number; rows: { id: string; doc: Doc }[] }).rows;
    expect(rows.map((r) => r.id)).toEqual(ids(0, DOCS));
    expect(intact(rows.map((r) => r.doc))).toBe(true);
    for (const [query, expected] of [
      ['limit=20&skip=3', ids(3, 23)],
      ['limit=3', ids(0, 3)],
      ['descending=true&limit=12', ids(DOCS - 12, DOCS).reverse()],
      ['startkey="big-030"', ids(30, DOCS)],
    ] as const) {
      const res = await fetch(new URL(`/dreamscript/couch/big/_all_docs?include_docs=true&${query}`, origin), { headers: headers() });
      const page = (await res.json()) as { offset: number; rows: { id: string; doc: Doc }[] };
      expect(page.rows.map((r) => r.id), query).toEqual(expected);
      expect(intact(page.rows.map((r) => r.doc))).toBe(true);
    }
  }, 60_000);

  it('_bulk_get and _all_docs with keys: the same bound, every document in the order asked, a repeated one too', async () => {
    const asked = [...ids(0, DOCS), 'big-005', 'nowhere'];
    const bulk = await pausedPost(origin, { 'x-api-key': key }, '/dreamscript/couch/big/_bulk_get?revs=true', { docs: asked.map((id) => ({ id })) }, queued, 1500);
    expect(bulk.head).toMatch(/^HTTP\/1\.1 200/);
    expect(bulk.held).toBeGreaterThan(0);
    expect(bulk.held).toBeLessThan(PAGE_CONTENT_BYTES + 2 * FILLER.length); // before: all 41 MiB
    const results = (JSON.parse(bulk.body) as { results: { id: string; docs: { ok?: Doc & { _revisions: object }; error?: object }[] }[] }).results;
    expect(results.map((r) => r.id)).toEqual(asked);
    expect(intact(results.slice(0, DOCS + 1).map((r) => r.docs[0].ok))).toBe(true);
    expect(results[0].docs[0].ok!._revisions).toMatchObject({ start: 1 });
    expect(results.at(-1)!.docs[0].error).toMatchObject({ error: 'not_found' });

    const all = await pausedPost(origin, { 'x-api-key': key }, '/dreamscript/couch/big/_all_docs?include_docs=true', { keys: asked }, queued, 1500);
    expect(all.held).toBeLessThan(PAGE_CONTENT_BYTES + 2 * FILLER.length);
    const rows = (JSON.parse(all.body) as { rows: { key: string; doc?: Doc; error?: string }[] }).rows;
    expect(rows.map((r) => r.key)).toEqual(asked);
    expect(intact(rows.slice(0, DOCS + 1).map((r) => r.doc))).toBe(true);
    expect(rows.at(-1)!.error).toBe('not_found');
  }, 60_000);

  it('limits, selectors and since count across pages cut by size', async () => {
    const get = async (query: string) => {
      const res = await fetch(new URL(`/dreamscript/couch/big/_changes?${query}`, origin), { headers: headers() });
      return (await res.json()) as { results: { id: string; seq: string; doc?: Doc }[]; last_seq: string };
    };
    const limited = await get('include_docs=true&limit=25');
    expect(limited.results.map((r) => r.id)).toEqual(ids(0, 25));
    const rest = await get(`include_docs=true&since=${limited.last_seq}`);
    expect(rest.results.map((r) => r.id)).toEqual(ids(25, DOCS));
    const res = await fetch(new URL(`/dreamscript/couch/big/_changes?filter=_selector&include_docs=true`, origin), {
      method: 'POST',
      headers: headers(),
      body: JSON.stringify({ selector: { n: { $gte: 35 } } }),
    });
    const matched = (await res.json()) as { results: { id: string; doc: Doc }[] };
    expect(matched.results.map((r) => r.id)).toEqual(ids(35, DOCS));
    expect(intact(matched.results.map((r) => r.doc))).toBe(true);
  }, 60_000);
});
