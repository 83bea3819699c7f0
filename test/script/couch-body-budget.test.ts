import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScriptTestApp, DIALECTS, type ScriptTestApp } from './helpers.js';

const MiB = 1024 * 1024;

describe.each(DIALECTS)('CouchDB body budget (%s)', (dialect) => {
  let t: ScriptTestApp;
  let key: string;
  let base: string;
  beforeAll(async () => {
    // Room for one 2 MiB body at a time.
    t = await createScriptTestApp(dialect, {
      DREAMSCRIPT_RATE_LIMIT: '0',
      DREAMSCRIPT_COUCH_BODY_BUDGET_BYTES: String(3 * MiB),
      DREAMSCRIPT_COUCH_BODY_IDLE_TIMEOUT: '1s',
    });
    key = await t.key();
    base = `${await t.app.listen({ port: 0, host: '127.0.0.1' })}/dreamscript/couch`;
    expect((await fetch(`${base}/budget`, { method: 'PUT', headers: { 'x-api-key': key } })).status).toBe(201);
  });
  afterAll(async () => {
    t.app.server.closeAllConnections(); // the keep-alive connections of this test's fetch calls
    await t.close();
  });

  const attachment = (name: string) =>
    fetch(`${base}/budget/${name}/file.bin`, { method: 'PUT', headers: { 'x-api-key': key, 'content-type': 'application/octet-stream' }, body: Buffer.alloc(2 * MiB, 1) });

  /** A PUT of a 2 MiB attachment over a raw socket, whose body the test sends itself (or not): the socket, its
   * answer (the status line and headers, or '' if the server hung up), and when the server closed it. */
  const rawPut = async (id: string) => {
    const url = new URL(`${base}/budget/${id}/file.bin`);
    const socket = connect(Number(url.port), url.hostname);
    socket.on('error', () => {});
    await new Promise((r) => socket.once('connect', r));
    const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
    const answer = new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (c) => {
        text += c.toString();
        if (text.includes('\r\n\r\n')) resolve(text);
      });
      socket.on('close', () => resolve(text));
    });
    socket.write(`PUT ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nX-API-Key: ${key}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${2 * MiB}\r\n\r\n`);
    return { socket, answer, closed };
  };

  it('makes a large body wait while another holds the budget, then serves it; the budget comes back', async () => {
    // A client that announces 2 MiB and sends only half of it holds the budget.
    const { socket: slow, answer: answered } = await rawPut('slow');
    slow.write(Buffer.alloc(MiB, 2));
    await new Promise((r) => setTimeout(r, 200));

    let waitingDone = false;
    const waiting = attachment('queued').then((res) => {
      waitingDone = true;
      return res;
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(waitingDone).toBe(false); // queued behind the slow body

    slow.write(Buffer.alloc(MiB, 2)); // the rest: the slow request completes and gives its share back
    expect(await answered).toMatch(/^HTTP\/1\.1 201/);
    slow.destroy();
    expect((await waiting).status).toBe(201);
    // Both stored, and the budget is free again for the next one.
    expect((await attachment('after')).status).toBe(201);
    for (const id of ['slow', 'queued', 'after']) {
      const got = await fetch(`${base}/budget/${id}/file.bin`, { headers: { 'x-api-key': key } });
      expect(got.status, id).toBe(200);
      expect((await got.arrayBuffer()).byteLength).toBe(2 * MiB);
    }
  });

  it('closes the connection of a large body that stops arriving, and its share of the budget comes back', async () => {
    const { socket: stalled, closed } = await rawPut('stalled');
    stalled.write(Buffer.alloc(MiB, 3));
    const sentAt = Date.now();
    const closedAt = await closed; // the server hangs up after a second of silence
    expect(closedAt - sentAt).toBeGreaterThanOrEqual(900);
    expect((await attachment('next')).status).toBe(201); // not queued behind the stalled body
    expect((await fetch(`${base}/budget/stalled`, { headers: { 'x-api-key': key } })).status).toBe(404);
    // A body that keeps arriving, slower than the idle timeout in total, is not cut.
    const { socket: steady, answer } = await rawPut('steady');
    for (let i = 0; i < 4; i++) {
      steady.write(Buffer.alloc(MiB / 2, 4));
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(await answer).toMatch(/^HTTP\/1\.1 201/);
    steady.destroy();
  });
});
