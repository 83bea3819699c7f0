import { readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../src/core/auth/jwt.js';
import { DIALECTS, TEST_JWT_SECRET } from '../helpers/app.js';
import { createScriptTestApp, type ScriptTestApp } from '../script/helpers.js';

// On every API, a request body that gets no byte and a response whose bytes the client does not take for
// [server] stall_timeout (1 s here) have their connection closed, and nothing of a cut body is stored; a server that
// is only waiting (a long-poll) is no stall. Over real sockets: an injected request has no connection to close.
const SPACE_KEY = 'space-key';

describe.each(DIALECTS)('transfers that stall (%s)', (dialect) => {
  let t: ScriptTestApp;
  let origin: URL;
  let bearer: string;
  let scriptKey: string;
  let dataDir: string;
  let lakeJson: Record<string, string>;
  beforeAll(async () => {
    t = await createScriptTestApp(dialect, { DREAMLAKE_STALL_TIMEOUT: '1s', DREAMSPACE_APITOKEN: SPACE_KEY, DREAMSCRIPT_RATE_LIMIT: '0' });
    dataDir = t.config.dataDir;
    origin = new URL(await t.app.listen({ port: 0, host: '127.0.0.1' }));
    bearer = `Bearer ${await signToken(TEST_JWT_SECRET, 'alice', 1)}`;
    scriptKey = await t.key();
    lakeJson = { authorization: bearer, 'content-type': 'application/json' };
    const project = await fetch(new URL('/namespaces/alice/projects', origin), { method: 'POST', headers: lakeJson, body: JSON.stringify({ name: 'Lab' }) });
    expect(project.status).toBe(201);
  });
  afterAll(async () => {
    t.app.server.closeAllConnections();
    await t.close();
  });

  /** Sends a request's head and the first part of its body over a raw socket, then nothing more. */
  const startRequest = async (method: string, path: string, headers: Record<string, string>, declared: number, first: Buffer | string) => {
    const socket = connect(Number(origin.port), origin.hostname);
    socket.on('error', () => {});
    await new Promise((r) => socket.once('connect', r));
    const sentAt = Date.now();
    const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - sentAt)));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    const head = Object.entries({ host: origin.host, 'content-length': String(declared), ...headers }).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    socket.write(`${method} ${path} HTTP/1.1\r\n${head}\r\n`);
    socket.write(first);
    return { socket, closed, answer: () => answer };
  };

  /** Milliseconds until the server closed the socket, or null if it was still open after `ms`. */
  const closedWithin = (closed: Promise<number>, socket: Socket, ms: number) =>
    Promise.race([closed, new Promise<null>((r) => setTimeout(() => r(null), ms))]).finally(() => socket.destroy());


  it('closes a DreamLake JSON body that stops half way; nothing is created and the server goes on', async () => {
    const { socket, closed, answer } = await startRequest('POST', '/namespaces', lakeJson, 100, '{"slug":"half');
    const after = await closedWithin(closed, socket, 5000);
    expect(after, 'the stalled connection was still open after 5 s').not.toBeNull();
    expect(after!).toBeGreaterThanOrEqual(900);
    expect(answer()).toBe(''); // closed without an answer: there is no one left to read one
    const res = await fetch(new URL('/namespaces/half', origin), { headers: { authorization: bearer } });
    expect(res.status).toBe(404);
  });

  it('closes a streamed file upload that stops; no node and no staged bytes are left', async () => {
    const { socket, closed } = await startRequest('PUT', '/namespaces/alice/projects/lab/files/stalled.bin', { authorization: bearer, 'content-type': 'application/octet-stream' }, 4 * 1024 * 1024, Buffer.alloc(256 * 1024, 7));
    expect(await closedWithin(closed, socket, 5000), 'the stalled upload was still open after 5 s').not.toBeNull();
    const node = await fetch(new URL('/namespaces/alice/projects/lab/nodes/lookup?path=/stalled.bin', origin), { headers: { authorization: bearer } });
    expect(node.status).toBe(404);
    expect((await node.json()).error).toBe('not_found');
    await expect.poll(() => readdirSync(join(dataDir, 'blobs', 'tmp')).filter((f) => f.endsWith('.part'))).toEqual([]);
  });

  it('closes a signed part upload that stops; the part is not listed as done', async () => {
    const hash = 'a'.repeat(16);
    const init = await fetch(new URL('/files/upload/multipart/init', origin), { method: 'POST', headers: lakeJson, body: JSON.stringify({ owner: 'alice', project: 'lab', hash }) });
    expect(init.status).toBe(201);
    const { uploadId, key } = (await init.json()) as { uploadId: string; key: string };
    const up = { uploadId, key };
    const urls = await fetch(new URL('/files/upload/multipart/parts', origin), { method: 'POST', headers: lakeJson, body: JSON.stringify({ ...up, partNumbers: [1] }) });
    const part = new URL(((await urls.json()) as { parts: Record<string, string> }).parts['1']);
    const { socket, closed } = await startRequest('PUT', part.pathname + part.search, { 'content-type': 'application/octet-stream' }, 10 * 1024 * 1024, Buffer.alloc(64 * 1024, 1));
    expect(await closedWithin(closed, socket, 5000), 'the stalled part was still open after 5 s').not.toBeNull();
    const done = await fetch(new URL(`/files/upload/multipart/parts-done?${new URLSearchParams(up)}`, origin), { headers: { authorization: bearer } });
    expect(done.status).toBe(200);
    expect(((await done.json()) as { parts: unknown[] }).parts).toEqual([]);
  });

  it('closes a Dreamscript REST body and a Dreamspace body that stop; nothing is created', async () => {
    const script = await startRequest('POST', '/dreamscript/documents', { 'x-api-key': scriptKey, 'content-type': 'application/json' }, 200, '{"title":"never fin');
    const space = await startRequest('POST', '/dreamspace/users', { 'x-api-key': SPACE_KEY, 'content-type': 'application/json' }, 200, '{"name":"never');
    expect(await closedWithin(script.closed, script.socket, 5000), 'Dreamscript').not.toBeNull();
    expect(await closedWithin(space.closed, space.socket, 5000), 'Dreamspace').not.toBeNull();
    const docs = await fetch(new URL('/dreamscript/documents', origin), { headers: { 'x-api-key': scriptKey } });
    expect(((await docs.json()) as { title: string }[]).map((d) => d.title)).not.toContain('never fin');
    const users = await fetch(new URL('/dreamspace/users', origin), { headers: { 'x-api-key': SPACE_KEY } });
    expect(JSON.stringify(await users.json())).not.toContain('never');
  });

  it('does not cut a slow body that keeps arriving, and the connection stays usable afterwards', async () => {
    const body = JSON.stringify({ slug: 'slow-but-steady' });
    const { socket, answer } = await startRequest('POST', '/namespaces', { ...lakeJson, connection: 'keep-alive' }, Buffer.byteLength(body), body.slice(0, 4));
    // A few bytes every 400 ms: 2.4 s in all, more than twice the allowed silence, but never 1 s without a byte.
    for (let at = 4; at < body.length; at += 4) {
      await new Promise((r) => setTimeout(r, 400));
      socket.write(body.slice(at, at + 4));
    }
    await expect.poll(() => answer(), { timeout: 3000 }).toMatch(/^HTTP\/1\.1 201/);
    // Between requests the keep-alive timeout applies, not the body watch: still open 2 s later, and serving.
    await new Promise((r) => setTimeout(r, 2000));
    expect(socket.destroyed).toBe(false);
    const before = answer().length;
    socket.write(`GET /namespaces/slow-but-steady HTTP/1.1\r\nhost: ${origin.host}\r\nauthorization: ${bearer}\r\n\r\n`);
    await expect.poll(() => answer().slice(before), { timeout: 3000 }).toMatch(/^HTTP\/1\.1 200/);
    socket.destroy();
  }, 15_000);
  /** GETs a file's content over a raw socket; the test decides when (or whether) to read what arrives. */
  const rawDownload = async (nodeId: string) => {
    const socket = connect(Number(origin.port), origin.hostname);
    socket.on('error', () => {});
    await new Promise((r) => socket.once('connect', r));
    socket.pause();
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(`GET /namespaces/alice/projects/lab/nodes/${nodeId}/content HTTP/1.1\r\nhost: ${origin.host}\r\nauthorization: ${bearer}\r\n\r\n`);
    let received = 0;
    socket.on('data', (chunk) => {
      received += chunk.length;
    });
    return { socket, closed, received: () => received };
  };
  const SIZE = 48 * 1024 * 1024; // far more than loopback's socket buffers hold
  let bigId: string;
  const bigFile = async () => {
    if (bigId) return bigId;
    const put = await fetch(new URL('/namespaces/alice/projects/lab/files/big.bin', origin), { method: 'PUT', headers: { authorization: bearer, 'content-type': 'application/octet-stream' }, body: Buffer.alloc(SIZE, 5) });
    expect(put.status).toBe(201);
    bigId = ((await put.json()) as { id: string }).id;
    return bigId;
  };

  it('closes a download whose client stops reading', async () => {
    const { socket, closed, received } = await rawDownload(await bigFile());
    await new Promise((r) => setTimeout(r, 3000)); // three times the allowance without reading
    socket.resume(); // what was in flight arrives, then the end: the server has hung up
    await Promise.race([closed, new Promise((r) => setTimeout(r, 10_000))]);
    socket.destroy();
    expect(received(), 'the whole file arrived: the unread download was not cut').toBeLessThan(SIZE);
  });

  it('does not cut a download whose client pauses for less than the allowance', async () => {
    const { socket, closed, received } = await rawDownload(await bigFile());
    await new Promise((r) => setTimeout(r, 600));
    socket.resume();
    await expect.poll(() => received(), { timeout: 10_000 }).toBeGreaterThan(SIZE); // the body and the head
    socket.destroy();
    await closed;
  });

  it('keeps a long-poll that waits longer than the allowance for a change', async () => {
    const db = await fetch(new URL('/dreamscript/couch/waiting', origin), { method: 'PUT', headers: { 'x-api-key': scriptKey } });
    expect(db.status).toBe(201);
    const started = Date.now();
    const feed = await fetch(new URL('/dreamscript/couch/waiting/_changes?feed=longpoll&since=now&timeout=2500', origin), { headers: { 'x-api-key': scriptKey } });
    expect(feed.status).toBe(200);
    expect(await feed.json()).toMatchObject({ results: [] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2400);
  });
  it('does not cut an upload the server is slow to take (its store is busy), however long it waits', async () => {
    const { buildApp } = await import('../../src/app.js');
    const { createFsBlobStore } = await import('../../src/core/blobs/fs-store.js');
    const { createDatabase } = await import('../../src/core/db/database.js');
    const fs = createFsBlobStore(join(dataDir, 'blobs'));
    // A store that makes the upload wait 2.5 s (2.5 times the allowance) before it reads a byte of it.
    const busy = { ...fs, put: async (source: AsyncIterable<Uint8Array>, checks?: Parameters<typeof fs.put>[1]) => (await new Promise((r) => setTimeout(r, 2500)), fs.put(source, checks)) };
    // Its own handle on the test's database (closing the app closes it).
    const slowApp = await buildApp(t.config, { database: createDatabase(t.databaseArg, { poolSize: 2 }), blobs: busy, logger: false });
    try {
      const url = new URL('/namespaces/alice/projects/lab/files/busy.bin', await slowApp.listen({ port: 0, host: '127.0.0.1' }));
      const res = await fetch(url, { method: 'PUT', headers: { authorization: bearer, 'content-type': 'application/octet-stream' }, body: Buffer.alloc(4 * 1024 * 1024, 3) });
      expect(res.status).toBe(201);
      expect(((await res.json()) as { size: number }).size).toBe(4 * 1024 * 1024);
    } finally {
      slowApp.server.closeAllConnections();
      await slowApp.close();
    }
  }, 15_000);
});
