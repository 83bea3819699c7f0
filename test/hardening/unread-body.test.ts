import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../src/core/auth/jwt.js';
import { DIALECTS, TEST_JWT_SECRET } from '../helpers/app.js';
import { createScriptTestApp, type ScriptTestApp } from '../script/helpers.js';

// A body refused before it is read (413 over the route's limit, 415 for a type no parser takes) is read and
// dropped when it is at most 64 MiB: the client gets its answer and the connection serves its next request. Over
// real sockets: an injected request has no connection to keep or close.

describe.each(DIALECTS)('bodies refused unread (%s)', (dialect) => {
  let t: ScriptTestApp;
  let origin: URL;
  let scriptKey: string;
  let bearer: string;
  beforeAll(async () => {
    t = await createScriptTestApp(dialect, { DREAMSCRIPT_RATE_LIMIT: '0' });
    origin = new URL(await t.app.listen({ port: 0, host: '127.0.0.1' }));
    scriptKey = await t.key();
    bearer = `Bearer ${await signToken(TEST_JWT_SECRET, 'alice', 1)}`;
  });
  afterAll(async () => {
    t.app.server.closeAllConnections();
    await t.close();
  });

  /** Writes `requests` back to back on one socket; answers what came back once the server closed it or `ms` passed. */
  const exchange = async (requests: (string | Buffer)[], ms = 3000) => {
    const socket = connect(Number(origin.port), origin.hostname);
    let error: string | null = null;
    socket.on('error', (err: NodeJS.ErrnoException) => (error = err.code ?? err.message));
    await new Promise((r) => socket.once('connect', r));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    const closed = new Promise<boolean>((r) => socket.once('close', () => r(true)));
    for (const part of requests) socket.write(part);
    const didClose = await Promise.race([closed, new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
    socket.destroy();
    return { answer, closed: didClose, error };
  };
  const head = (method: string, path: string, headers: Record<string, string>) =>
    `${method} ${path} HTTP/1.1\r\nhost: ${origin.host}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  const statuses = (answer: string) => [...answer.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));

  it('answers a Dreamscript document over 1 MiB with a 413 and keeps the connection for the next request', async () => {
    const body = Buffer.from(JSON.stringify({ title: 'big', content: 'x'.repeat(3 * 1024 * 1024) }));
    const headers = { 'x-api-key': scriptKey, 'content-type': 'application/json' };
    const { answer, closed, error } = await exchange([
      head('POST', '/dreamscript/documents', { ...headers, 'content-length': String(body.length) }),
      body,
      head('GET', '/dreamscript/documents', { 'x-api-key': scriptKey }),
    ]);
    expect(error).toBeNull();
    expect(statuses(answer)).toEqual([413, 200]);
    expect(answer).toContain('"payload_too_large"');
    expect(answer).not.toMatch(/^connection: close/im);
    expect(closed).toBe(false);
    const list = await fetch(new URL('/dreamscript/documents', origin), { headers: { 'x-api-key': scriptKey } });
    expect(await list.json()).toEqual([]); // nothing stored
  });

  it('does the same for a DreamLake body of a type no parser takes (415)', async () => {
    const body = Buffer.alloc(2 * 1024 * 1024, 'a');
    const { answer, closed } = await exchange([
      head('POST', '/namespaces', { authorization: bearer, 'content-type': 'application/xml', 'content-length': String(body.length) }),
      body,
      head('GET', '/auth/me', { authorization: bearer }),
    ]);
    expect(statuses(answer)).toEqual([415, 200]);
    expect(closed).toBe(false);
  });

  it('still closes the connection when the refused body would be over 64 MiB', async () => {
    const { answer, closed } = await exchange([
      head('POST', '/dreamscript/documents', { 'x-api-key': scriptKey, 'content-type': 'application/json', 'content-length': String(65 * 1024 * 1024) }),
      Buffer.alloc(64 * 1024, 'a'),
    ]);
    expect(statuses(answer)).toEqual([413]);
    expect(answer).toMatch(/^connection: close/im);
    expect(closed).toBe(true);
  });
});
