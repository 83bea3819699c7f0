import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DIALECTS, type TestApp } from '../helpers/app.js';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** Every file under `dir`, recursively (relative paths). */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, prefix: string) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isDirectory()) walk(join(d, e.name), `${prefix}${e.name}/`);
      else out.push(`${prefix}${e.name}`);
    }
  };
  walk(dir, '');
  return out.sort();
}

describe.each(DIALECTS)('DreamLake files and content (%s)', (dialect) => {
  let t: TestApp;
  let alice: Record<string, string>;
  const base = '/namespaces/alice/projects/lab';
  const blobFiles = () => filesUnder(join(t.dataDir, 'blobs'));
  const dataFiles = () => filesUnder(t.dataDir).filter((f) => !f.startsWith('dreamlake.sqlite'));

  let port: number;

  beforeAll(async () => {
    t = await createTestApp(dialect, { DREAMLAKE_MAX_UPLOAD_BYTES: String(64 * 1024) });
    alice = await t.auth('alice');
    await t.inject({ method: 'POST', url: '/namespaces/alice/projects', headers: alice, payload: { name: 'Lab' } });
    // Some checks need a real socket: app.inject normalises URLs (`..`, `\\`) the way browsers do.
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.server.address() as AddressInfo).port;
  });
  afterAll(async () => t.close());

  const put = (path: string, body: Buffer | string | Readable, headers: Record<string, string> = {}, query = '') =>
    t.inject({ method: 'PUT', url: `${base}/files/${path}${query}`, headers: { ...alice, ...headers }, payload: body });
  const content = (id: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET') =>
    t.inject({ method, url: `${base}/nodes/${id}/content`, headers: { ...alice, ...headers } });
  const lookup = (path: string) => t.inject({ method: 'GET', url: `${base}/nodes/lookup?path=${encodeURIComponent(path)}`, headers: alice });

  describe('PUT …/files/*path', () => {
    it('stores the bytes of any content type (JSON included, never parsed) and creates missing folders', async () => {
      const body = '{"not": "parsed", broken';
      const res = await put('camera/front/meta.json', body, { 'content-type': 'application/json' });
      expect(res.statusCode).toBe(201);
      const node = res.json();
      expect(node).toMatchObject({ name: 'meta.json', path: '/camera/front/meta.json', kind: 'text', leaf: true, size: body.length, contentType: 'application/json', sha256: sha256(body) });
      expect(res.headers.etag).toBe(`"${sha256(body)}"`);
      expect((await lookup('/camera/front')).json().kind).toBe('folder');
      const got = await content(node.id);
      expect(got.statusCode).toBe(200);
      expect(got.body).toBe(body);
      expect(got.headers['content-type']).toBe('application/json');
    });

    it.each([
      ['clip.mp4', undefined, 'video', 'video/mp4'],
      ['voice.bin', 'audio/wav', 'audio', 'audio/wav'],
      ['photo.JPG', 'application/octet-stream', 'image', 'image/jpeg'],
      ['notes.md', 'application/x-www-form-urlencoded', 'text', 'text/markdown'],
      ['blob', undefined, 'file', 'application/octet-stream'],
      ['archive.tar', undefined, 'file', 'application/x-tar'],
    ])('guesses the kind of %s (sent %s) as %s', async (name, type, kind, contentType) => {
      const res = await put(`kinds/${name}`, 'data', type ? { 'content-type': type } : {});
      expect(res.statusCode).toBe(201);
      expect(res.json()).toMatchObject({ kind, contentType });
    });

    it('takes an explicit ?kind= of the open vocabulary and refuses a container or malformed one', async () => {
      expect((await put('kinds/raw.dat', 'x', {}, '?kind=video')).json().kind).toBe('video');
      expect((await put('kinds/track.jsonl', 'x', {}, '?kind=label-track')).json().kind).toBe('label-track');
      expect((await put('kinds/raw2.dat', 'x', {}, '?kind=folder')).statusCode).toBe(400);
      expect((await put('kinds/raw3.dat', 'x', {}, '?kind=project')).statusCode).toBe(400);
      expect((await put('kinds/raw4.dat', 'x', {}, '?kind=CSV')).statusCode).toBe(400);
    });

    it('replacing a file answers 200 and keeps its node ID, tags and collections', async () => {
      const first = (await put('replace/a.txt', 'one')).json();
      await t.inject({ method: 'PATCH', url: `${base}/nodes/${first.id}`, headers: alice, payload: { tags: ['keep'] } });
      await t.inject({ method: 'POST', url: `${base}/collections`, headers: alice, payload: { name: 'rep', members: [first.id] } });
      const second = await put('replace/a.txt', 'two, longer');
      expect(second.statusCode).toBe(200);
      expect(second.json()).toMatchObject({ id: first.id, size: 11, sha256: sha256('two, longer'), tags: ['keep'] });
      expect((await content(first.id)).body).toBe('two, longer');
      const rep = await t.inject({ method: 'GET', url: `${base}/collections/rep`, headers: alice });
      expect(rep.json().members).toEqual([first.id]);
    });

    it('If-None-Match: * refuses to replace (412) and leaves the file as it was; If-Match must match', async () => {
      const node = (await put('cond/a.txt', 'original')).json();
      const refused = await put('cond/a.txt', 'changed', { 'if-none-match': '*' });
      expect(refused.statusCode).toBe(412);
      expect(refused.json().error).toBe('precondition_failed');
      expect((await content(node.id)).body).toBe('original');
      expect((await put('cond/new.txt', 'fresh', { 'if-none-match': '*' })).statusCode).toBe(201);
      expect((await put('cond/a.txt', 'changed', { 'if-match': '"0000"' })).statusCode).toBe(412);
      expect((await put('cond/none.txt', 'x', { 'if-match': '*' })).statusCode).toBe(412);
      expect((await lookup('/cond/none.txt')).statusCode).toBe(404);
      const ok = await put('cond/a.txt', 'changed', { 'if-match': `"${sha256('original')}"` });
      expect(ok.statusCode).toBe(200);
    });

    it('verifies x-checksum-sha256: a match is stored, a mismatch is a 400 that stores nothing', async () => {
      expect((await put('sum/ok.bin', 'payload', { 'x-checksum-sha256': sha256('payload').toUpperCase() })).statusCode).toBe(201);
      const before = blobFiles();
      const bad = await put('sum/bad.bin', 'payload!', { 'x-checksum-sha256': sha256('something else') });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error).toBe('checksum_mismatch');
      expect((await put('sum/bad.bin', 'payload!', { 'x-checksum-sha256': 'xyz' })).statusCode).toBe(400);
      expect((await lookup('/sum/bad.bin')).statusCode).toBe(404);
      expect(blobFiles()).toEqual(before);
    });

    it('a Content-Length that does not match the body is a 400 that stores nothing', async () => {
      const before = blobFiles();
      const res = await put('len/short.bin', 'eleven byte', { 'content-length': '3' });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toBe('size_mismatch');
      expect((await lookup('/len/short.bin')).statusCode).toBe(404);
      expect(blobFiles()).toEqual(before);
    });

    it('refuses bodies over the configured maximum with 413, announced or streamed, storing nothing', async () => {
      const before = blobFiles();
      const big = randomBytes(64 * 1024 + 1);
      const announced = await put('big/a.bin', big);
      expect(announced.statusCode).toBe(413);
      expect(announced.json().error).toBe('payload_too_large');
      const streamed = await put('big/b.bin', Readable.from([big.subarray(0, 40_000), big.subarray(40_000)]), { 'transfer-encoding': 'chunked' });
      expect(streamed.statusCode).toBe(413);
      expect((await lookup('/big')).statusCode).toBe(404);
      expect(blobFiles()).toEqual(before);
      const exact = await put('big/exact.bin', big.subarray(1));
      expect(exact.statusCode).toBe(201);
    });

    it('answers a malformed Content-Type with 415 and an over-long one with 400, storing nothing', async () => {
      const res = await put('typed/bad.bin', 'x', { 'content-type': 'not a media type' });
      expect(res.statusCode).toBe(415);
      expect(res.json().error).toBe('unsupported_media_type');
      const long = await put('typed/long.bin', 'x', { 'content-type': `video/${'x'.repeat(300)}` });
      expect(long.statusCode).toBe(400);
      expect(long.json().error).toBe('invalid_content_type');
      expect((await lookup('/typed')).statusCode).toBe(404);
    });

    it('streams a chunked body with no Content-Length', async () => {
      const parts = [randomBytes(20_000), randomBytes(20_000)];
      const res = await put('stream/c.bin', Readable.from(parts), { 'transfer-encoding': 'chunked' });
      expect(res.statusCode).toBe(201);
      expect(res.json().sha256).toBe(sha256(Buffer.concat(parts)));
    });

    it('stores an empty file', async () => {
      const res = await put('empty.txt', '');
      expect(res.statusCode).toBe(201);
      expect(res.json()).toMatchObject({ size: 0, sha256: sha256('') });
      const got = await content(res.json().id);
      expect(got.statusCode).toBe(200);
      expect(got.body).toBe('');
      expect(got.headers['content-length']).toBe('0');
      expect((await content(res.json().id, { range: 'bytes=0-' })).statusCode).toBe(416);
    });

    it('stores identical content once', async () => {
      const data = randomBytes(1000);
      await put('dedup/one.bin', data);
      const before = blobFiles().filter((f) => !f.startsWith('tmp/'));
      await put('dedup/two.bin', data);
      await put('dedup/three/copy.bin', data);
      expect(blobFiles().filter((f) => !f.startsWith('tmp/'))).toEqual(before);
      expect(before.some((f) => f.endsWith(sha256(data)))).toBe(true);
    });

    it('a folder at the path or a file on the way is a 409; an unknown episode a 404', async () => {
      await put('clash/inner/x.txt', 'x');
      expect((await put('clash/inner', 'x')).statusCode).toBe(409);
      expect((await put('clash/inner/x.txt/y.txt', 'y')).statusCode).toBe(409);
      expect((await put('clash/y.txt', 'y', {}, '?episode=nope')).statusCode).toBe(404);
    });

    /** A PUT over a real socket, with the path exactly as given (no client-side normalisation). */
    const rawPut = (path: string, body: string) =>
      new Promise<{ status: number; body: { error?: string } }>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, method: 'PUT', path: `${base}/files/${path}`, headers: { ...alice, 'content-length': String(body.length) } });
        req.on('response', (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
        });
        req.on('error', reject);
        req.end(body);
      });

    it.each([
      ['a/%2e%2e/b.txt'],
      ['%2E%2E/escape.txt'],
      ['../escape.txt'],
      ['a/../../../../../../tmp/escape.txt'],
      ['a/./b.txt'],
      ['/etc/passwd'],
      ['/tmp/escape.txt'],
      ['a%2Fb.txt'],
      ['a%2F..%2F..%2Fescape.txt'],
      ['a%5Cb.txt'],
      ['a\\b.txt'],
      ['..\\..\\escape.txt'],
      ['a%00b.txt'],
      ['a/%0a.txt'],
      ['a%C2%85b.txt'], // U+0085 (NEL), a C1 control character
      ['a%C2%9F.txt'],
      ['a%7F.txt'],
      ['a//b.txt'],
      ['a/'],
    ])('refuses the file path %j with 400, writing nothing anywhere', async (path) => {
      const before = dataFiles();
      const res = await rawPut(path, 'evil');
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_path');
      expect(dataFiles()).toEqual(before);
      for (const escaped of [join(t.dataDir, '..', 'escape.txt'), '/tmp/escape.txt', '/etc/passwd.evil']) expect(existsSync(escaped)).toBe(false);
    });

    it('refuses a path that is not valid percent-encoded UTF-8 with 400', async () => {
      expect((await rawPut('%ff.txt', 'x')).status).toBe(400);
      expect((await rawPut('a/%E0%A4%A.txt', 'x')).status).toBe(400);
    });

    it('decodes each part once: a literal percent sign and spaces are fine', async () => {
      const res = await put('odd/100%25%20done.txt', 'x');
      expect(res.statusCode).toBe(201);
      expect(res.json().path).toBe('/odd/100% done.txt');
    });
  });

  describe('GET|HEAD …/nodes/:id/content', () => {
    const data = randomBytes(1000);
    let id: string;
    beforeAll(async () => {
      id = (await put('media/clip.mp4', data, { 'content-type': 'video/mp4' })).json().id;
    });

    it('sends the whole file with its type, length, ETag and Accept-Ranges', async () => {
      const res = await content(id);
      expect(res.statusCode).toBe(200);
      expect(res.rawPayload.equals(data)).toBe(true);
      expect(res.headers).toMatchObject({
        'content-type': 'video/mp4',
        'content-length': '1000',
        etag: `"${sha256(data)}"`,
        'accept-ranges': 'bytes',
        'x-content-type-options': 'nosniff',
      });
    });

    it.each([
      ['bytes=0-0', 0, 0],
      ['bytes=999-999', 999, 999],
      ['bytes=999-', 999, 999],
      ['bytes=-1', 999, 999],
      ['bytes=-500', 500, 999],
      ['bytes=-5000', 0, 999],
      ['bytes=100-199', 100, 199],
      ['bytes=990-5000', 990, 999],
      ['bytes=0-', 0, 999],
    ])('answers %s with 206 and bytes %i-%i', async (range, start, end) => {
      const res = await content(id, { range });
      expect(res.statusCode).toBe(206);
      expect(res.headers['content-range']).toBe(`bytes ${start}-${end}/1000`);
      expect(res.headers['content-length']).toBe(String(end - start + 1));
      expect(res.rawPayload.equals(data.subarray(start, end + 1))).toBe(true);
    });

    it.each(['bytes=1000-', 'bytes=5000-6000', 'bytes=-0'])('answers the unsatisfiable %s with 416', async (range) => {
      const res = await content(id, { range });
      expect(res.statusCode).toBe(416);
      expect(res.headers['content-range']).toBe('bytes */1000');
      expect(res.json().error).toBe('range_not_satisfiable');
    });

    it.each(['bytes=0-1,5-6', 'items=0-1', 'bytes=abc', 'bytes=9-3'])('ignores the range %s and sends everything', async (range) => {
      const res = await content(id, { range });
      expect(res.statusCode).toBe(200);
      expect(res.rawPayload.length).toBe(1000);
    });

    it('answers If-None-Match with 304 when the ETag matches, and If-Range decides whether a range applies', async () => {
      const etag = `"${sha256(data)}"`;
      const cached = await content(id, { 'if-none-match': etag });
      expect(cached.statusCode).toBe(304);
      expect(cached.body).toBe('');
      expect(cached.headers.etag).toBe(etag);
      expect((await content(id, { 'if-none-match': `"other", W/${etag}` })).statusCode).toBe(304);
      expect((await content(id, { 'if-none-match': '"other"' })).statusCode).toBe(200);
      expect((await content(id, { range: 'bytes=0-9', 'if-range': etag })).statusCode).toBe(206);
      expect((await content(id, { range: 'bytes=0-9', 'if-range': '"stale"' })).statusCode).toBe(200);
    });

    it('HEAD sends the headers without the body', async () => {
      const head = await content(id, {}, 'HEAD');
      expect(head.statusCode).toBe(200);
      expect(head.headers['content-length']).toBe('1000');
      expect(head.headers.etag).toBe(`"${sha256(data)}"`);
      expect(head.body).toBe('');
      const ranged = await content(id, { range: 'bytes=-10' }, 'HEAD');
      expect(ranged.statusCode).toBe(206);
      expect(ranged.headers['content-range']).toBe('bytes 990-999/1000');
    });

    it('folders have no content (400); deleted or unknown files are 404', async () => {
      const folder = (await lookup('/media')).json();
      expect((await content(folder.id)).statusCode).toBe(400);
      const gone = (await put('media/gone.txt', 'bye')).json();
      await t.inject({ method: 'DELETE', url: `${base}/nodes/${gone.id}`, headers: alice });
      expect((await content(gone.id)).statusCode).toBe(404);
      expect((await content('unknown')).statusCode).toBe(404);
    });
  });

  it('a killed upload leaves no node and no bytes behind', async () => {
    const before = blobFiles();
    const partial = () => blobFiles().filter((f) => f.endsWith('.part'));
    const waitFor = async (ready: () => boolean) => {
      for (let i = 0; i < 500 && !ready(); i++) await new Promise((r) => setTimeout(r, 10));
    };
    let started = false;
    const closed = new Promise<void>((resolve) => {
      const req = httpRequest({
        host: '127.0.0.1',
        port,
        method: 'PUT',
        path: `${base}/files/killed/big.bin`,
        headers: { ...alice, 'content-length': String(60_000), 'content-type': 'application/octet-stream' },
      });
      req.on('error', () => resolve());
      req.on('close', () => resolve());
      req.write(randomBytes(20_000));
      // Kill the client once the server is half way through writing the upload.
      void waitFor(() => (started = partial().length > 0)).then(() => req.destroy());
    });
    await closed;
    expect(started).toBe(true);
    await waitFor(() => partial().length === 0);
    expect(blobFiles()).toEqual(before);
    expect((await lookup('/killed/big.bin')).statusCode).toBe(404);
    expect((await lookup('/killed')).statusCode).toBe(404);
  });
});
