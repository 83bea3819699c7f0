import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/app.js';
import { KEY, spaceApp, type SpaceTest } from './helpers.js';

// Lists have no page size in the original API (GET /users answers every user): a list longer than a page is
// streamed, each page read after the client has taken the previous one. Same answer, flat memory.
const USERS = 1100; // two pages of 1,000
const DOCS = 100; // documents go 16 to a page: ~25 MB of images in 7 pages
const IMAGE = Buffer.alloc(192 * 1024, 7).toString('base64'); // 256 KiB of base64

describe.each(DIALECTS)('Dreamspace lists longer than a page (%s)', (dialect) => {
  let s: SpaceTest;
  let origin: URL;
  const serverSockets: Socket[] = [];
  let userIds: number[];
  beforeAll(async () => {
    s = await spaceApp(dialect);
    userIds = [];
    for (let i = 0; i < USERS; i++) userIds.push((await s.api('POST', '/users', { twitch_id: `u-${i}`, name: `user ${i % 3}` })).body.user_id);
    for (let i = 0; i < DOCS; i++) expect((await s.api('POST', '/documents', { document_data: IMAGE, seal: i })).status).toBe(200);
    origin = new URL(await s.t.app.listen({ port: 0, host: '127.0.0.1' }));
    s.t.app.server.on('connection', (socket: Socket) => serverSockets.push(socket));
  }, 120_000);
  afterAll(async () => {
    s.t.app.server.closeAllConnections();
    await s.close();
  });

  it('answers the same list as one page would: every object in ID order, limit and after across pages, filters', async () => {
    const all = await s.api('GET', '/users');
    expect(all.status).toBe(200);
    expect(all.body.map((u: { user_id: number }) => u.user_id)).toEqual(userIds);
    expect(all.body[1099]).toMatchObject({ twitch_id: 'u-1099', name: 'user 1' });
    const limited = await s.api('GET', '/users?limit=1050');
    expect(limited.body.map((u: { user_id: number }) => u.user_id)).toEqual(userIds.slice(0, 1050));
    const after = await s.api('GET', `/users?after=${userIds[49]}&limit=1020`);
    expect(after.body.map((u: { user_id: number }) => u.user_id)).toEqual(userIds.slice(50, 1070));
    const filtered = await s.api('GET', '/users?name=user%202');
    expect(filtered.body.map((u: { user_id: number }) => u.user_id)).toEqual(userIds.filter((_, i) => i % 3 === 2));
    const head = await s.t.inject({ method: 'HEAD', url: '/dreamspace/users', headers: { 'x-api-key': KEY } });
    expect(head.statusCode).toBe(200);
    expect(head.body).toBe('');
    const docs = await s.api('GET', '/documents?limit=40');
    expect(docs.body.map((d: { seal: number }) => d.seal)).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  it('streams a long list to a client that reads slowly: about a page queued, then the whole list', async () => {
    const client = connect(Number(origin.port), origin.hostname);
    client.on('error', () => {});
    await new Promise((r) => client.once('connect', r));
    client.pause();
    client.write(`GET /dreamspace/documents HTTP/1.1\r\nhost: ${origin.host}\r\nx-api-key: ${KEY}\r\nconnection: close\r\n\r\n`);
    await new Promise((r) => setTimeout(r, 2000));
    const queued = Math.max(0, ...serverSockets.filter((c) => !c.destroyed).map((c) => c.writableLength));
    expect(queued).toBeGreaterThan(0);
    expect(queued).toBeLessThan(10 * 1024 * 1024); // the whole list (~25 MB) sat there before
    let text = '';
    client.setEncoding('utf8');
    client.on('data', (chunk: string) => (text += chunk));
    const ended = new Promise((r) => client.once('close', r));
    client.resume();
    await ended;
    const [head, ...rest] = text.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 200/);
    const body = JSON.parse(rest.join('\r\n\r\n').replace(/\r\n[0-9a-f]+\r\n/g, '').replace(/^[0-9a-f]+\r\n/, '').replace(/\r\n0\r\n$/, '')) as { seal: number; document_data: string }[];
    expect(body.map((d) => d.seal)).toEqual(Array.from({ length: DOCS }, (_, i) => i));
    expect(body.every((d) => d.document_data === IMAGE)).toBe(true);
  }, 30_000);
});
