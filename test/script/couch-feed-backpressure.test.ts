import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScriptTestApp, DIALECTS, type ScriptTestApp } from './helpers.js';

// Answers of more than a page (a _changes feed, _all_docs, _bulk_get, whose bodies may name a document any number of
// times) read and send the next page only once the client has taken the last one: a reader that pauses must not make
// the server hold the whole database, or a thousand copies of a document, in memory.
const DOCS = 6000;
const FILLER = 'x'.repeat(5000); // ~30 MB of changes with include_docs; a page (1,000 changes) is ~5 MB

describe.each(DIALECTS)('large CouchDB answers and a client that stops reading (%s)', (dialect) => {
  let t: ScriptTestApp;
  let key: string;
  let origin: URL;
  const serverSockets: Socket[] = [];
  beforeAll(async () => {
    t = await createScriptTestApp(dialect, { DREAMSCRIPT_RATE_LIMIT: '0' });
    key = await t.key();
    origin = new URL(await t.app.listen({ port: 0, host: '127.0.0.1' }));
    t.app.server.on('connection', (s: Socket) => serverSockets.push(s));
    const headers = { 'x-api-key': key, 'content-type': 'application/json' };
    expect((await fetch(new URL('/dreamscript/couch/feed', origin), { method: 'PUT', headers })).status).toBe(201);
    for (let from = 0; from < DOCS; from += 1000) {
      const docs = Array.from({ length: 1000 }, (_, i) => ({ _id: `doc-${String(from + i).padStart(5, '0')}`, filler: FILLER }));
      const res = await fetch(new URL('/dreamscript/couch/feed/_bulk_docs', origin), { method: 'POST', headers, body: JSON.stringify({ docs }) });
      expect(res.status).toBe(201);
    }
  }, 60_000);
  afterAll(async () => {
    t.app.server.closeAllConnections();
    await t.close();
  });

  /** Bytes the server has queued for its clients right now (its sockets' write queues). */
  const queued = () => Math.max(0, ...serverSockets.filter((s) => !s.destroyed).map((s) => s.writableLength));
  // Without the wait for the client the whole feed (~30 MB) sat in the server's socket queue within 2 s.
  const ONE_PAGE_AND_SOME = 12 * 1024 * 1024;

  /** The JSON body of a chunked HTTP/1.1 answer read off a raw socket. */
  const chunkedJson = (raw: string) => {
    const [head, ...rest] = raw.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 200/);
    return JSON.parse(rest.join('\r\n\r\n').replace(/\r\n[0-9a-f]+\r\n/g, '').replace(/^[0-9a-f]+\r\n/, '').replace(/\r\n0\r\n$/, ''));
  };
  const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `doc-${String(from + i).padStart(5, '0')}`);

  /**
   * A request over a raw socket whose client reads nothing for 2 s: `readAfterPause()` checks that the server then
   * holds about a page for it (not the whole answer) and starts reading; `answer()` is the whole body, parsed.
   */
  const pausedRequest = async (method: string, path: string, body?: unknown) => {
    const client = connect(Number(origin.port), origin.hostname);
    client.on('error', () => {});
    await new Promise((r) => client.once('connect', r));
    client.pause();
    const payload = body === undefined ? '' : JSON.stringify(body);
    const head = `${method} ${path} HTTP/1.1\r\nhost: ${origin.host}\r\nx-api-key: ${key}\r\nconnection: close\r\n`;
    client.write(`${head}${payload ? `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(payload)}\r\n` : ''}\r\n${payload}`);
    let text = '';
    const ended = new Promise<void>((r) => client.once('close', () => r()));
    const readAfterPause = async () => {
      await new Promise((r) => setTimeout(r, 2000));
      expect(queued()).toBeGreaterThan(0);
      expect(queued()).toBeLessThan(ONE_PAGE_AND_SOME);
      client.setEncoding('utf8');
      client.on('data', (chunk: string) => (text += chunk));
      client.resume();
    };
    const answer = async () => {
      await ended;
      return chunkedJson(text);
    };
    return { client, readAfterPause, text: () => text, answer };
  };
  const pausedGet = (path: string) => pausedRequest('GET', path);

  it('continuous: queues about one page for a paused reader, and delivers every change once it reads again', async () => {
    const feed = await pausedGet('/dreamscript/couch/feed/_changes?feed=continuous&include_docs=true&since=0&timeout=20000');
    await feed.readAfterPause();
    await expect.poll(() => (feed.text().match(/"id":"doc-/g) ?? []).length, { timeout: 20_000 }).toBe(DOCS);
    feed.client.destroy();
  }, 40_000);

  it('normal, no limit: streamed as the client reads, one valid JSON answer with every change', async () => {
    const feed = await pausedGet('/dreamscript/couch/feed/_changes?include_docs=true&since=0');
    await feed.readAfterPause();
    const body = (await feed.answer()) as { results: { id: string; seq: string; doc: { filler: string } }[]; last_seq: string; pending: number };
    expect(body.results).toHaveLength(DOCS);
    expect(body.results.map((r) => r.id)).toEqual(ids(0, DOCS));
    expect(body.results.every((r) => r.doc.filler === FILLER)).toBe(true);
    expect(body.last_seq).toBe(body.results.at(-1)!.seq);
    expect(body.pending).toBe(0);
  }, 40_000);

  it('_all_docs without a limit: streamed as the client reads, every row in order', async () => {
    const all = await pausedGet('/dreamscript/couch/feed/_all_docs?include_docs=true');
    await all.readAfterPause();
    const body = (await all.answer()) as { total_rows: number; offset: number; rows: { id: string; key: string; doc: { _id: string; filler: string } }[] };
    expect(body.total_rows).toBe(DOCS);
    expect(body.offset).toBe(0);
    expect(body.rows.map((r) => r.id)).toEqual(ids(0, DOCS));
    expect(body.rows.every((r) => r.key === r.id && r.doc._id === r.id && r.doc.filler === FILLER)).toBe(true);
  }, 40_000);

  it('_all_docs over many pages keeps its bounds, skip, order and limit', async () => {
    const q = new URLSearchParams({ include_docs: 'true', descending: 'true', startkey: '"doc-05000"', endkey: '"doc-00100"', inclusive_end: 'false', skip: '50', limit: '2500' });
    const res = await fetch(new URL(`/dreamscript/couch/feed/_all_docs?${q}`, origin), { headers: { 'x-api-key': key } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { total_rows: number; offset: number; rows: { id: string }[] };
    expect(body).toMatchObject({ total_rows: DOCS, offset: 50 });
    expect(body.rows.map((r) => r.id)).toEqual(ids(2451, 4951).reverse());
    const rest = await fetch(new URL(`/dreamscript/couch/feed/_all_docs?${new URLSearchParams({ startkey: '"doc-00100"', endkey: '"doc-05000"', inclusive_end: 'false', skip: '10' })}`, origin), { headers: { 'x-api-key': key } });
    expect(((await rest.json()) as { rows: { id: string }[] }).rows.map((r) => r.id)).toEqual(ids(110, 5000));
  }, 20_000);
  it('_bulk_get naming documents thousands of times: streamed as the client reads, every result in order', async () => {
    const docs = [...Array.from({ length: DOCS }, (_, i) => ({ id: `doc-${String(i % 7).padStart(5, '0')}` })), { id: 'missing' }];
    const bulk = await pausedRequest('POST', '/dreamscript/couch/feed/_bulk_get?revs=true', { docs });
    await bulk.readAfterPause();
    const body = (await bulk.answer()) as { results: { id: string; docs: { ok?: { _id: string; filler: string; _revisions: unknown }; error?: { error: string } }[] }[] };
    expect(body.results.map((r) => r.id)).toEqual(docs.map((d) => d.id));
    expect(body.results.slice(0, -1).every((r) => r.docs[0].ok?._id === r.id && r.docs[0].ok.filler === FILLER && r.docs[0].ok._revisions)).toBe(true);
    expect(body.results.at(-1)!.docs[0].error?.error).toBe('not_found');
  }, 40_000);

  it('_all_docs with keys beyond a page: streamed as the client reads; descending, skip and limit over the keys', async () => {
    const keys = [...ids(0, DOCS), 'missing'];
    const all = await pausedRequest('POST', '/dreamscript/couch/feed/_all_docs?include_docs=true', { keys });
    await all.readAfterPause();
    const body = (await all.answer()) as { total_rows: number; rows: { key: string; id?: string; error?: string; doc?: { filler: string } }[] };
    expect(body.total_rows).toBe(DOCS);
    expect(body.rows.map((r) => r.key)).toEqual(keys);
    expect(body.rows.slice(0, -1).every((r) => r.id === r.key && r.doc?.filler === FILLER)).toBe(true);
    expect(body.rows.at(-1)).toEqual({ key: 'missing', error: 'not_found' });

    const q = new URLSearchParams({ descending: 'true', skip: '10', limit: '2000' });
    const res = await fetch(new URL(`/dreamscript/couch/feed/_all_docs?${q}`, origin), { method: 'POST', headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: JSON.stringify({ keys }) });
    const paged = (await res.json()) as { offset: number; rows: { key: string }[] };
    expect(paged.offset).toBe(10);
    expect(paged.rows.map((r) => r.key)).toEqual([...keys].reverse().slice(10, 2010));
  }, 40_000);
});
