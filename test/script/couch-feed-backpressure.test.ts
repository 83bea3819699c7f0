import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScriptTestApp, DIALECTS, type ScriptTestApp } from './helpers.js';

// A continuous _changes feed sends the next page of changes only once the client has taken the last one: a reader
// that pauses must not make the server queue the whole database in memory.
const DOCS = 6000;
const FILLER = 'x'.repeat(5000); // ~30 MB of changes with include_docs; a page (1,000 changes) is ~5 MB

describe.each(DIALECTS)('continuous _changes and a client that stops reading (%s)', (dialect) => {
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

  it('queues about one page for a paused reader, and delivers every change once it reads again', async () => {
    const client = connect(Number(origin.port), origin.hostname);
    client.on('error', () => {});
    await new Promise((r) => client.once('connect', r));
    client.pause();
    const path = '/dreamscript/couch/feed/_changes?feed=continuous&include_docs=true&since=0&timeout=20000';
    client.write(`GET ${path} HTTP/1.1\r\nhost: ${origin.host}\r\nx-api-key: ${key}\r\n\r\n`);
    await new Promise((r) => setTimeout(r, 2000));
    const queued = Math.max(...serverSockets.filter((s) => !s.destroyed).map((s) => s.writableLength));
    // Without the wait for 'drain' the whole feed (~30 MB) sat in the server's socket queue by now.
    expect(queued).toBeGreaterThan(0);
    expect(queued).toBeLessThan(12 * 1024 * 1024);

    let text = '';
    client.setEncoding('utf8');
    client.on('data', (chunk: string) => (text += chunk));
    client.resume();
    await expect.poll(() => (text.match(/"id":"doc-/g) ?? []).length, { timeout: 20_000 }).toBe(DOCS);
    client.destroy();
  }, 40_000);
});
