import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpFetch } from '../src/cli/client/http-fetch.js';

// The client's transport for file bytes, against a plain node:http server: what it sends and what it answers.
let server: http.Server;
let base: string;
const seen: { method?: string; headers: http.IncomingHttpHeaders; md5: string; bytes: number; aborted: boolean }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const hash = createHash('md5');
    let bytes = 0;
    const record = { method: req.method, headers: req.headers, md5: '', bytes: 0, aborted: false };
    seen.push(record);
    req.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
    });
    req.on('aborted', () => (record.aborted = true));
    req.on('end', () => {
      record.md5 = hash.digest('hex');
      record.bytes = bytes;
      if (req.url === '/empty') return res.writeHead(204).end();
      if (req.url === '/missing') return res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
      res.writeHead(200, { etag: `"${record.md5}"`, 'x-multi': ['a', 'b'] });
      res.end(req.method === 'GET' ? Buffer.alloc(3 * 1024 * 1024, 1) : 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('httpFetch', () => {
  it('PUTs an async iterable body with its headers and answers a standard Response (status, headers, body)', async () => {
    const data = randomBytes(5 * 1024 * 1024 + 3);
    async function* body() {
      for (let at = 0; at < data.length; at += 1024 * 1024) yield data.subarray(at, at + 1024 * 1024);
    }
    const res = await httpFetch(`${base}/part?partNumber=2`, {
      method: 'PUT',
      headers: { 'content-type': 'video/mp4', 'content-length': String(data.length) },
      body: body() as unknown as BodyInit,
    });
    const md5 = createHash('md5').update(data).digest('hex');
    expect(res.status).toBe(200);
    expect(res.ok).toBe(true);
    expect(res.headers.get('etag')).toBe(`"${md5}"`);
    expect(res.headers.get('x-multi')).toBe('a, b');
    expect(await res.text()).toBe('ok');
    expect(seen.at(-1)).toMatchObject({ method: 'PUT', md5, bytes: data.length, aborted: false });
    expect(seen.at(-1)!.headers).toMatchObject({ 'content-type': 'video/mp4', 'content-length': String(data.length) });
    expect(seen.at(-1)!.headers.authorization).toBeUndefined();
  });

  it('streams a GET body; strings and bytes as bodies; 204 and 404 answers', async () => {
    const got = await httpFetch(`${base}/blob`, { headers: { range: 'bytes=0-9' } });
    expect(seen.at(-1)!.headers.range).toBe('bytes=0-9');
    let total = 0;
    for await (const chunk of got.body as unknown as AsyncIterable<Uint8Array>) total += chunk.length;
    expect(total).toBe(3 * 1024 * 1024);
    expect((await httpFetch(`${base}/empty`, { method: 'POST', body: '{"a":1}' })).status).toBe(204);
    expect(seen.at(-1)).toMatchObject({ method: 'POST', bytes: 7 });
    const missing = await httpFetch(`${base}/missing`, { method: 'PUT', body: new Uint8Array([1, 2, 3]) });
    expect(missing.status).toBe(404);
    expect(missing.ok).toBe(false);
    expect(await missing.json()).toEqual({ error: 'not_found' });
  });

  it('a body that breaks off rejects, and the server sees the request cut short (not a complete one)', async () => {
    async function* breaking() {
      yield Buffer.alloc(1024 * 1024);
      throw new Error('disk read failed');
    }
    const before = seen.length;
    await expect(
      httpFetch(`${base}/part`, { method: 'PUT', headers: { 'content-length': String(4 * 1024 * 1024) }, body: breaking() as unknown as BodyInit }),
    ).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen.length).toBe(before + 1);
    expect(seen.at(-1)!.aborted || seen.at(-1)!.bytes < 4 * 1024 * 1024).toBe(true);
    expect(seen.at(-1)!.md5).toBe(''); // never ended as a whole request
  });

  it('an unreachable server rejects', async () => {
    await expect(httpFetch('http://127.0.0.1:1/x')).rejects.toThrow();
    await expect(httpFetch('ftp://example.com/x')).rejects.toThrow(/unsupported protocol/);
  });
});
