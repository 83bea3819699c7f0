import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import Fastify from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { FileRangeStream } from '../../src/core/blobs/file-range-stream.js';

const KiB = 1024;
const dir = mkdtempSync(join(tmpdir(), 'dreamlake-range-stream-'));
const content = randomBytes(3 * 1024 * KiB + 123); // a dozen chunks and a short last one
const path = join(dir, 'blob');
writeFileSync(path, content);

let server: Server;
let base: string;
const opened: FileHandle[] = [];

/** GET with an optional `bytes=a-b` header; `abortAfter` bytes received, the client drops the connection. */
function get(range?: string, abortAfter?: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = request(base, { headers: range ? { range } : {} }, (res) => {
      const chunks: Buffer[] = [];
      let received = 0;
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        received += chunk.length;
        if (abortAfter !== undefined && received >= abortAfter) {
          req.destroy();
          resolve(Buffer.concat(chunks));
        }
      });
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', reject);
    });
    req.on('error', (err) => (abortAfter === undefined ? reject(err) : undefined));
    req.end();
  });
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const fh = await open(path, 'r');
    opened.push(fh);
    const [start, end] = req.headers.range ? req.headers.range.slice(6).split('-').map(Number) : [0, Infinity];
    res.writeHead(200);
    new FileRangeStream(fh, start, end).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => vi.restoreAllMocks());

describe('FileRangeStream', () => {
  it('serves a whole file and ranges across chunk boundaries into an HTTP response', async () => {
    expect((await get()).equals(content)).toBe(true);
    expect((await get('bytes=262000-1048700')).equals(content.subarray(262000, 1048701))).toBe(true);
    expect((await get(`bytes=${content.length - 5}-${content.length - 1}`)).equals(content.subarray(-5))).toBe(true);
    expect((await get('bytes=0-0')).equals(content.subarray(0, 1))).toBe(true);
  });

  it('reuses its buffers from one response to the next: a warm pool allocates nothing', async () => {
    await Promise.all([get(), get()]); // warm the pool with as many buffers as two responses hold
    const allocate = vi.spyOn(Buffer, 'allocUnsafeSlow');
    const [a, b] = await Promise.all([get(), get()]);
    expect(a.equals(content) && b.equals(content)).toBe(true);
    expect(allocate).not.toHaveBeenCalled();
  });

  it('holds fewer buffers for a client that stops reading than for a fast one (it waits for the socket to drain)', async () => {
    vi.resetModules(); // a module of its own: an empty pool, so each buffer it holds at once is one allocation
    const { FileRangeStream: Fresh } = await import('../../src/core/blobs/file-range-stream.js');
    const big = join(dir, 'big');
    writeFileSync(big, randomBytes(48 * 1024 * KiB)); // more than loopback's socket buffers take in
    const slow = createServer(async (_req, res) => {
      res.writeHead(200);
      new Fresh(await open(big, 'r'), 0, Infinity).pipe(res);
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const allocate = vi.spyOn(Buffer, 'allocUnsafeSlow');
    try {
      const req = request(`http://127.0.0.1:${(slow.address() as AddressInfo).port}/`, (res) => res.pause());
      req.end();
      await new Promise((r) => setTimeout(r, 500)); // the kernel's buffers fill, then the server waits
      const held = allocate.mock.calls.filter(([size]) => size === 256 * KiB).length;
      req.destroy();
      expect(held).toBeGreaterThan(0);
      expect(held).toBeLessThanOrEqual(2);
    } finally {
      allocate.mockRestore();
      slow.closeAllConnections();
      await new Promise((resolve) => slow.close(resolve));
    }
  });

  it('closes the file when the client goes away half way', async () => {
    const before = opened.length;
    const got = await get(undefined, 300 * KiB);
    expect(got.length).toBeGreaterThanOrEqual(300 * KiB);
    expect(opened).toHaveLength(before + 1);
    await vi.waitFor(() => expect(opened[before].fd).toBe(-1));
    expect((await get()).equals(content)).toBe(true); // and the pool still serves whole files afterwards
  });

  it('gives fresh buffers to a destination that keeps them (a consumer that is not an HTTP response)', async () => {
    const kept: Buffer[] = [];
    const keeper = new Writable({
      write(chunk: Buffer, _encoding, done) {
        kept.push(chunk); // kept, never copied: a reused buffer would be overwritten under it
        done();
      },
    });
    await pipeline(new FileRangeStream(await open(path, 'r'), 100, content.length - 1), keeper);
    expect(Buffer.concat(kept).equals(content.subarray(100))).toBe(true);
  });

  it('fails, and closes the file, when the file is shorter than the range', async () => {
    const fh = await open(path, 'r');
    const stream = new FileRangeStream(fh, 0, content.length + 10);
    await expect(pipeline(stream, new Writable({ write: (_c, _e, done) => done() }))).rejects.toThrow(/shorter/);
    await vi.waitFor(() => expect(fh.fd).toBe(-1));
  });

  it('is a reply payload Fastify serves, on a real port and through inject', async () => {
    const app = Fastify();
    app.get('/', async (_request, reply) => reply.send(new FileRangeStream(await open(path, 'r'), 5, content.length - 1)));
    try {
      const injected = await app.inject({ method: 'GET', url: '/' });
      expect(injected.statusCode).toBe(200);
      expect(injected.rawPayload.equals(content.subarray(5))).toBe(true);
      const url = await app.listen({ port: 0, host: '127.0.0.1' });
      const res = await fetch(url);
      expect(Buffer.from(await res.arrayBuffer()).equals(content.subarray(5))).toBe(true);
    } finally {
      await app.close();
    }
  });
});
