import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { HeadObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createS3BlobStore } from '../../src/core/blobs/s3-store.js';
import { main } from '../../src/cli/main.js';
import type { DialectName } from '../../src/core/db/database.js';
import { createTestApp, DIALECTS, type TestApp } from '../helpers/app.js';
import { labProject, type LabProject } from '../helpers/lake.js';
import { multipartContract, presignedPartUrl } from '../helpers/multipart-contract.js';
import { emptyS3Prefix, S3_SKIP_REASON, S3_TEST, s3AppEnv, s3Contents, testPrefix } from '../helpers/s3.js';

// What only the S3 store does: clients' multipart parts and downloads go straight to the object store through
// presigned URLs (checked by the real S3 server: Swift's s3api verifies every signature), and the app on S3.

const MiB = 1024 * 1024;
const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (!S3_TEST) console.log(`\n*** ${S3_SKIP_REASON} ***\n`);

// The multipart staging contract every store meets (test/helpers/multipart-contract.ts), here on S3.
if (S3_TEST) {
  const contractPrefix = testPrefix();
  multipartContract('S3 store', () => createS3BlobStore({ ...S3_TEST!, prefix: contractPrefix }), {
    minPartSize: 5 * MiB,
    checksumMismatchDiscards: true,
  });
  afterAll(() => emptyS3Prefix(contractPrefix));
}

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe.skipIf(!S3_TEST)('S3 blob store: multipart staging and presigned URLs', () => {
  const prefix = testPrefix();
  let store: ReturnType<typeof createS3BlobStore>;
  beforeAll(() => {
    store = createS3BlobStore({ ...S3_TEST!, prefix });
  });
  afterAll(async () => {
    await emptyS3Prefix(prefix);
    store.client.destroy();
  });

  // S3 wants every part but the last to be at least 5 MiB.
  const content = randomBytes(10 * MiB + 4321);
  const partsOf = (data: Buffer) => [data.subarray(0, 5 * MiB), data.subarray(5 * MiB, 10 * MiB), data.subarray(10 * MiB)];
  const sendPart = async (url: string, body: Buffer) => {
    const res = await fetch(url, { method: 'PUT', body: Uint8Array.from(body) });
    return { status: res.status, etag: res.headers.get('etag') ?? '' };
  };

  it('takes parts through presigned URLs in any order, a re-sent part, and completes into the content address', async () => {
    const key = 'uploads/alice/one';
    const uploadId = await store.createMultipart(key, 'video/mp4');
    const parts = partsOf(content);
    const signed = (await store.presignParts(key, uploadId, [1, 2, 3], 600))!;
    const urls = [1, 2, 3].map((n) => signed.get(n));
    expect(new Set(urls).size).toBe(3);
    // Signed as the SDK's own getSignedUrl signs it: same address and parameters (its date and signature aside).
    const unsigned = (u: URL) => [u.origin, u.pathname, [...u.searchParams.keys()].sort(), [...u.searchParams].filter(([k]) => !['X-Amz-Date', 'X-Amz-Signature'].includes(k)).sort()];
    const staged = { Bucket: store.bucket, Key: `${prefix}data/mp/${key}/${uploadId.split('.')[0]}`, UploadId: uploadId.slice(uploadId.indexOf('.') + 1) };
    for (const [i, url] of urls.entries()) {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
      expect(url).toContain('X-Amz-Signature=');
      const ours = new URL(url!);
      expect(ours.searchParams.get('partNumber')).toBe(String(i + 1));
      const sdk = new URL(await getSignedUrl(store.client, new UploadPartCommand({ ...staged, PartNumber: i + 1 }), { expiresIn: 600 }));
      expect(unsigned(ours)).toEqual(unsigned(sdk));
    }
    // Out of order and in parallel, with no credentials of their own: the signature in the URL is enough.
    const sent = await Promise.all([2, 0, 1].map(async (i) => [i, await sendPart(urls[i]!, parts[i])] as const));
    for (const [, r] of sent) expect(r.status).toBe(200);
    // Part 2 again (the client lost the answer): it replaces the first copy.
    const again = await sendPart(urls[1]!, parts[1]);
    expect(again.status).toBe(200);
    const etags = new Map(sent.map(([i, r]) => [i + 1, r.etag]));
    etags.set(2, again.etag);

    const listed = await store.listParts(key, uploadId);
    expect(listed.map((p) => [p.partNumber, p.size])).toEqual([
      [1, 5 * MiB],
      [2, 5 * MiB],
      [3, 4321],
    ]);
    expect(listed[0].etag).toBe(createHash('md5').update(parts[0]).digest('hex'));

    const info = await store.completeMultipart(
      key,
      uploadId,
      [3, 1, 2].map((n) => ({ partNumber: n, etag: etags.get(n)! })),
      { expectedSha256Prefix: sha256(content).slice(0, 16), expectedSize: content.length },
    );
    expect(info).toEqual({ sha256: sha256(content), size: content.length });
    expect((await readAll(await store.get(info.sha256))).equals(content)).toBe(true);
    // The staged upload is gone; the assembled object stayed where it was (no copy), named by the blob's pointer.
    await expect(store.listParts(key, uploadId)).rejects.toMatchObject({ status: 404 });
    const nonce = uploadId.slice(0, uploadId.indexOf('.'));
    expect((await s3Contents(prefix)).objects).toEqual([`blobs/${info.sha256}`, `data/mp/${key}/${nonce}`]);
    expect((await s3Contents(prefix)).uploads).toEqual([]);
    const pointer = await store.client.send(new HeadObjectCommand({ Bucket: store.bucket, Key: `${prefix}blobs/${info.sha256}` }));
    expect(pointer.ContentLength).toBe(0);
    expect(pointer.Metadata).toEqual({ location: `data/mp/${key}/${nonce}`, size: String(content.length) });
  });

  it('answers 403 from the S3 server for a tampered or expired part URL', async () => {
    const key = 'uploads/alice/tampered';
    const uploadId = await store.createMultipart(key, 'application/octet-stream');
    const url = (await presignedPartUrl(store, key, uploadId, 1, 600))!;
    const tampered = [
      url.replace('partNumber=1', 'partNumber=2'),
      url.replace(/X-Amz-Signature=([0-9a-f])/, (_m, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`),
      url.replace(/X-Amz-Expires=\d+/, 'X-Amz-Expires=604800'),
    ];
    for (const bad of tampered) {
      expect(bad).not.toBe(url);
      expect((await sendPart(bad, Buffer.from('not mine'))).status).toBe(403);
    }
    const expiring = (await presignedPartUrl(store, key, uploadId, 1, 1))!;
    await sleep(2100);
    expect((await sendPart(expiring, Buffer.from('too late'))).status).toBe(403);
    expect(await store.listParts(key, uploadId)).toEqual([]);
    await store.abortMultipart(key, uploadId);
  });

  it('refuses a wrong size or ETag before assembling (the upload stays), and a wrong hash with 400 storing nothing', async () => {
    const key = 'uploads/alice/wrong';
    const other = randomBytes(10 * MiB + 1);
    const uploadId = await store.createMultipart(key, 'application/octet-stream');
    const parts = partsOf(other);
    const refs = [];
    for (const [i, body] of parts.entries()) {
      refs.push({ partNumber: i + 1, etag: (await sendPart((await presignedPartUrl(store, key, uploadId, i + 1, 600))!, body)).etag });
    }
    await expect(store.completeMultipart(key, uploadId, refs, { expectedSize: other.length + 1 })).rejects.toMatchObject({
      status: 400,
      code: 'size_mismatch',
    });
    await expect(
      store.completeMultipart(key, uploadId, [{ partNumber: 1, etag: '"0123456789abcdef0123456789abcdef"' }, ...refs.slice(1)]),
    ).rejects.toMatchObject({ status: 400, code: 'invalid_part' });
    await expect(store.completeMultipart(key, uploadId, [...refs, { partNumber: 7, etag: refs[0].etag }])).rejects.toMatchObject({ status: 400 });
    await expect(store.completeMultipart(key, uploadId, refs, { maxBytes: 1000 })).rejects.toMatchObject({ status: 413 });
    expect(await store.listParts(key, uploadId)).toHaveLength(3); // still there after those

    await expect(
      store.completeMultipart(key, uploadId, refs, { expectedSha256Prefix: sha256('something else').slice(0, 16) }),
    ).rejects.toMatchObject({ status: 400, code: 'checksum_mismatch' });
    expect(await store.exists(sha256(other))).toBe(false);
    expect(await s3Contents(prefix)).toMatchObject({ uploads: [] });
    expect((await s3Contents(prefix)).objects.filter((k) => k.includes('/wrong/') || k.startsWith('pending/'))).toEqual([]);
  });

  it('takes parts the server received itself (putPart), and aborts', async () => {
    const key = 'uploads/bob/server-side';
    const data = randomBytes(5 * MiB + 10);
    const uploadId = await store.createMultipart(key, 'application/octet-stream');
    const p2 = await store.putPart(key, uploadId, 2, Readable.from([data.subarray(5 * MiB)]));
    const p1 = await store.putPart(key, uploadId, 1, Readable.from([data.subarray(0, MiB), data.subarray(MiB, 5 * MiB)]), { expectedSize: 5 * MiB });
    expect(p1).toEqual({ partNumber: 1, etag: createHash('md5').update(data.subarray(0, 5 * MiB)).digest('hex'), size: 5 * MiB });
    await expect(store.putPart(key, uploadId, 3, Readable.from([Buffer.from('abc')]), { expectedSize: 4 })).rejects.toMatchObject({ code: 'size_mismatch' });
    const info = await store.completeMultipart(key, uploadId, [p1, p2], { expectedSha256Prefix: sha256(data).slice(0, 16) });
    expect(info.sha256).toBe(sha256(data));

    const aborted = await store.createMultipart('uploads/bob/aborted', 'text/plain');
    await store.putPart('uploads/bob/aborted', aborted, 1, Readable.from([Buffer.from('abc')]));
    await store.abortMultipart('uploads/bob/aborted', aborted);
    await store.abortMultipart('uploads/bob/aborted', aborted); // twice is fine
    await expect(store.listParts('uploads/bob/aborted', aborted)).rejects.toMatchObject({ status: 404 });
    await expect(store.createMultipart('../escape', 'text/plain')).rejects.toMatchObject({ status: 400 });
  });

  it('completes content that is already stored (dedup) without a second copy', async () => {
    const key = 'uploads/carol/same';
    const uploadId = await store.createMultipart(key, 'video/mp4');
    const refs = [];
    for (const [i, body] of partsOf(content).entries()) {
      refs.push({ partNumber: i + 1, etag: (await sendPart((await presignedPartUrl(store, key, uploadId, i + 1, 600))!, body)).etag });
    }
    const info = await store.completeMultipart(key, uploadId, refs, { expectedSha256Prefix: sha256(content).slice(0, 16) });
    expect(info.sha256).toBe(sha256(content));
    const { objects } = await s3Contents(prefix);
    expect(objects.filter((k) => k === `blobs/${info.sha256}`)).toHaveLength(1);
    expect(objects).toContain(`touch/${info.sha256}`);
    // The new assembled object was deleted: the pointer still names the first one.
    expect(objects.filter((k) => k.startsWith('data/mp/uploads/carol/') || k.startsWith('pending/'))).toEqual([]);
    expect((await readAll(await store.get(info.sha256, { start: 5 * MiB - 3, end: 5 * MiB + 2 }))).equals(content.subarray(5 * MiB - 3, 5 * MiB + 3))).toBe(true);
  });

  it('presignGet: a plain HTTP client gets the bytes, a range, the file name and the content type', async () => {
    const info = await store.put(Readable.from([content]));
    const url = (await store.presignGet(info.sha256, { filename: 'run 1 "café".mp4', contentType: 'video/mp4', expiresInSeconds: 600 }))!;
    const whole = await fetch(url);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toBe('video/mp4');
    expect(whole.headers.get('content-disposition')).toBe(`attachment; filename="run 1 _caf__.mp4"; filename*=UTF-8''run%201%20%22caf%C3%A9%22.mp4`);
    expect(Buffer.from(await whole.arrayBuffer()).equals(content)).toBe(true);
    const part = await fetch(url, { headers: { range: 'bytes=5242870-5242889' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 5242870-5242889/${content.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(content.subarray(5242870, 5242890))).toBe(true);
    // This content's blob is a pointer (to the first test's upload, or to this put): the URL names its object, signed.
    expect(url).toMatch(/\/data\/(mp\/uploads\/alice\/one|put)\/[0-9a-f-]{36}\?/);
    expect((await fetch(url.replace(/[0-9a-f]\?X-Amz-/, (m) => `${m[0] === '0' ? '1' : '0'}${m.slice(1)}`))).status).toBe(403);
  });

  it('a big put streams into data/ and becomes a pointer blob: no copy', async () => {
    const data = randomBytes(11 * MiB + 7);
    const info = await store.put(Readable.from([data]));
    expect(info).toEqual({ sha256: sha256(data), size: data.length });
    expect((await readAll(await store.get(info.sha256))).equals(data)).toBe(true);
    const { objects, uploads } = await s3Contents(prefix);
    expect(uploads).toEqual([]);
    expect(objects.filter((k) => k.startsWith('data/put/'))).toHaveLength(1);
    expect(objects.filter((k) => k.startsWith('pending/') || k.startsWith('tmp/'))).toEqual([]);
  });
  it('downloads nobody reads do not starve the store: 60 paused streams, and every other request still goes', async () => {
    const data = randomBytes(4 * MiB); // more than a socket's buffers: each stream keeps its S3 connection busy
    const info = await store.put(Readable.from([data]));
    const paused = await Promise.all(Array.from({ length: 60 }, () => store.get(info.sha256)));
    try {
      // The SDK's pool holds 50 sockets: on it, these waited for a paused stream to give its socket back (never).
      const within = <T>(p: Promise<T>) => Promise.race([p, sleep(15_000).then(() => 'still waiting after 15 s')]);
      expect(await within(store.exists(info.sha256))).toBe(true);
      const other = randomBytes(1000);
      expect(await within(store.put(Readable.from([other])))).toEqual({ sha256: sha256(other), size: 1000 });
      expect(await within(store.get(info.sha256, { start: 0, end: 9 }).then(readAll))).toEqual(data.subarray(0, 10));
    } finally {
      for (const stream of paused) (stream as Readable).destroy();
    }
  });
});

describe.skipIf(!S3_TEST).each(DIALECTS)('the app on the S3 store (%s)', (dialect: DialectName) => {
  const prefix = testPrefix();
  let t: TestApp;
  let app: FastifyInstance;
  let headers: Record<string, string>;
  const base = '/namespaces/alice/projects/lab';

  beforeAll(async () => {
    t = await createTestApp(dialect, s3AppEnv(prefix));
    app = t.app;
    headers = await t.auth('alice');
    await app.inject({ method: 'POST', url: '/namespaces/alice/projects', headers, payload: { name: 'Lab' } });
  });
  afterAll(async () => {
    await t.close();
    await emptyS3Prefix(prefix);
  });

  it('uploads through PUT …/files/*path into the bucket and serves it back, whole and by range', async () => {
    const body = randomBytes(6 * MiB + 99);
    const put = await app.inject({ method: 'PUT', url: `${base}/files/videos/run1.bin`, headers, payload: body });
    expect(put.statusCode).toBe(201);
    expect(put.json()).toMatchObject({ sha256: sha256(body), size: body.length });
    expect((await s3Contents(prefix)).objects).toEqual([`blobs/${sha256(body)}`]);
    const id = put.json().id;
    const whole = await app.inject({ method: 'GET', url: `${base}/nodes/${id}/content`, headers });
    expect(whole.statusCode).toBe(200);
    expect(whole.rawPayload.equals(body)).toBe(true);
    const ranged = await app.inject({ method: 'GET', url: `${base}/nodes/${id}/content`, headers: { ...headers, range: 'bytes=100-199' } });
    expect(ranged.statusCode).toBe(206);
    expect(ranged.rawPayload.equals(body.subarray(100, 200))).toBe(true);
    // The same bytes again under another name: stored once.
    expect((await app.inject({ method: 'PUT', url: `${base}/files/copy.bin`, headers, payload: body })).statusCode).toBe(201);
    expect((await s3Contents(prefix)).objects.filter((k) => k.startsWith('blobs/'))).toHaveLength(1);
  });

  it('dreamlake gc deletes unreferenced blobs from the bucket', async () => {
    const gone = await app.inject({ method: 'PUT', url: `${base}/files/gone.txt`, headers, payload: 'soon garbage' });
    await app.inject({ method: 'DELETE', url: `${base}/nodes/${gone.json().id}`, headers });
    await sleep(2100);
    const env = s3AppEnv(prefix);
    for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v!);
    const out = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      await main(['node', 'dreamlake', 'gc', '--data', t.dataDir, '--database', t.databaseArg, '--grace', '1s']);
    } finally {
      vi.unstubAllEnvs();
    }
    const report = out.mock.calls.map((c) => String(c[0])).join('\n');
    out.mockRestore();
    expect(report).toMatch(/Scanned 2 blobs: 1 in use, 0 younger than the grace period, deleted 1 \(12 bytes\)/);
    const { objects } = await s3Contents(prefix);
    expect(objects.filter((k) => k.startsWith('blobs/'))).toHaveLength(1);
    expect(objects).not.toContain(`blobs/${sha256('soon garbage')}`);
  });
});

describe.skipIf(!S3_TEST)('dreamlake backup and restore with the S3 store (SQLite: PostgreSQL is backed up with pg_dump)', () => {
  it('copies the blobs in use out of the bucket, and restore puts them into the bucket the restored server uses', async () => {
    const prefix = testPrefix();
    const restoredPrefix = testPrefix();
    const t = await createTestApp('sqlite', s3AppEnv(prefix));
    const headers = await t.auth('alice');
    const base = '/namespaces/alice/projects/lab';
    const dirs: string[] = [];
    const tempDir = () => {
      const dir = mkdtempSync(join(tmpdir(), 'dreamlake-s3-backup-'));
      dirs.push(dir);
      return dir;
    };
    try {
      await t.inject({ method: 'POST', url: '/namespaces/alice/projects', headers, payload: { name: 'Lab' } });
      expect((await t.inject({ method: 'PUT', url: `${base}/files/kept.txt`, headers, payload: 'kept in the backup' })).statusCode).toBe(201);
      const gone = await t.inject({ method: 'PUT', url: `${base}/files/gone.txt`, headers, payload: 'deleted before the backup' });
      await t.inject({ method: 'DELETE', url: `${base}/nodes/${gone.json().id}`, headers });
      const target = join(tempDir(), 'backup');
      const log = vi.spyOn(console, 'log').mockImplementation(() => {});
      for (const [k, v] of Object.entries(s3AppEnv(prefix))) vi.stubEnv(k, v!);
      try {
        await main(['node', 'dreamlake', 'backup', target, '--data', t.dataDir]);
        vi.unstubAllEnvs();
        for (const [k, v] of Object.entries(s3AppEnv(restoredPrefix))) vi.stubEnv(k, v!);
        const fresh = tempDir();
        await main(['node', 'dreamlake', 'restore', target, '--data', fresh]);
        expect(String(log.mock.calls[0][0])).toMatch(/^Backed up the database and 1 blobs \(18 bytes\)/);
        expect((await s3Contents(restoredPrefix)).objects).toEqual([`blobs/${sha256('kept in the backup')}`]);
      } finally {
        vi.unstubAllEnvs();
        log.mockRestore();
      }
    } finally {
      await t.close();
      await emptyS3Prefix(prefix);
      await emptyS3Prefix(restoredPrefix);
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!S3_TEST).each(DIALECTS)('the original clients\' multipart flow and signed links on S3 (%s)', (dialect: DialectName) => {
  const prefix = testPrefix();
  let t: TestApp;
  let lab: LabProject;
  const hash16 = (data: Buffer) => sha256(data).slice(0, 16);
  const content = randomBytes(10 * MiB + 999);
  const pieces = [content.subarray(0, 5 * MiB), content.subarray(5 * MiB, 10 * MiB), content.subarray(10 * MiB)];

  beforeAll(async () => {
    t = await createTestApp(dialect, s3AppEnv(prefix));
    lab = await labProject(t);
  });
  afterAll(async () => {
    await t.close();
    await emptyS3Prefix(prefix);
  });

  const start = async (data: Buffer) => {
    const res = await t.inject({ method: 'POST', url: '/files/upload/multipart/init', headers: lab.alice, payload: { owner: 'alice', project: 'lab', hash: hash16(data), contentType: 'video/mp4' } });
    expect(res.statusCode).toBe(201);
    return { uploadId: res.json().uploadId as string, key: res.json().key as string };
  };
  const urlsFor = async (up: { uploadId: string; key: string }, partNumbers: number[]) => {
    const res = await t.inject({ method: 'POST', url: '/files/upload/multipart/parts', headers: lab.alice, payload: { ...up, partNumbers } });
    expect(res.statusCode).toBe(200);
    return res.json().parts as Record<string, string>;
  };
  const send = async (url: string, body: Buffer) => {
    const res = await fetch(url, { method: 'PUT', headers: { 'content-type': 'video/mp4' }, body: Uint8Array.from(body) });
    expect(res.status).toBe(200);
    return res.headers.get('etag')!.replace(/"/g, '');
  };

  it('parts go straight to S3 through presigned URLs, out of order; parts-done resumes; complete and POST /files register it', async () => {
    const up = await start(content);
    const urls = await urlsFor(up, [1, 2, 3]);
    for (const url of Object.values(urls)) expect(url.startsWith(`${S3_TEST!.endpoint}/${S3_TEST!.bucket}/${prefix}data/mp/`)).toBe(true);
    const etags: Record<number, string> = {};
    await Promise.all([3, 1].map(async (n) => (etags[n] = await send(urls[String(n)], pieces[n - 1]))));
    // The client died here; the re-run asks what is done and sends only part 2.
    const done = await t.inject({ method: 'GET', url: `/files/upload/multipart/parts-done?uploadId=${encodeURIComponent(up.uploadId)}&key=${encodeURIComponent(up.key)}`, headers: lab.alice });
    expect(done.json()).toMatchObject({ expired: false, parts: [{ partNumber: 1, size: 5 * MiB }, { partNumber: 3, size: 999 }] });
    etags[2] = await send((await urlsFor(up, [2]))['2'], pieces[1]);
    const parts = [1, 2, 3].map((n) => ({ partNumber: n, etag: etags[n] }));
    const completed = await t.inject({ method: 'POST', url: '/files/upload/multipart/complete', headers: lab.alice, payload: { ...up, parts } });
    expect(completed.statusCode).toBe(200);
    expect(completed.json()).toMatchObject({ sha256: sha256(content), size: content.length });
    const { objects } = await s3Contents(prefix);
    expect(objects.filter((k) => !k.startsWith(`data/mp/${up.key}/`))).toEqual([`blobs/${sha256(content)}`]);
    expect(objects.filter((k) => k.startsWith(`data/mp/${up.key}/`))).toHaveLength(1);

    const registered = await t.inject({
      method: 'POST',
      url: '/files',
      headers: lab.alice,
      payload: { name: '/clip.mp4', owner: 'alice', project: 'lab', stagingHash: hash16(content), kind: 'video', contentType: 'video/mp4', size: content.length, originalName: 'clip.mp4' },
    });
    expect(registered.statusCode).toBe(201);
    const raw = await t.inject({ method: 'GET', url: `/files/${registered.json().id}/raw`, headers: { ...lab.alice, range: 'bytes=5242878-5242881' } });
    expect(raw.statusCode).toBe(206);
    expect(raw.rawPayload.equals(content.subarray(5242878, 5242882))).toBe(true);
  });

  it('a wrong hash is a 400 at complete and nothing is stored', async () => {
    const other = randomBytes(6 * MiB);
    const res = await t.inject({ method: 'POST', url: '/files/upload/multipart/init', headers: lab.alice, payload: { owner: 'alice', project: 'lab', hash: hash16(randomBytes(9)), contentType: 'video/mp4' } });
    const up = { uploadId: res.json().uploadId as string, key: res.json().key as string };
    const urls = await urlsFor(up, [1, 2]);
    const parts = [
      { partNumber: 1, etag: await send(urls['1'], other.subarray(0, 5 * MiB)) },
      { partNumber: 2, etag: await send(urls['2'], other.subarray(5 * MiB)) },
    ];
    const completed = await t.inject({ method: 'POST', url: '/files/upload/multipart/complete', headers: lab.alice, payload: { ...up, parts } });
    expect(completed.statusCode).toBe(400);
    expect((await s3Contents(prefix)).objects).not.toContain(`blobs/${sha256(other)}`);
    expect((await s3Contents(prefix)).objects.filter((k) => k.startsWith(`data/mp/${up.key}/`) || k.startsWith('pending/'))).toEqual([]);
  });

  it('GET …/nodes/:id/download answers a presigned S3 URL that a plain client reads with a range, without the server', async () => {
    const body = randomBytes(300_000);
    const put = await t.inject({ method: 'PUT', url: `${lab.base}/files/videos/run%201.mp4`, headers: { ...lab.alice, 'content-type': 'video/mp4' }, payload: body });
    expect(put.statusCode).toBe(201);
    for (const url of [`${lab.base}/nodes/${put.json().id}/download`, `/nodes/${put.json().id}/download`]) {
      const link = await t.inject({ method: 'GET', url, headers: lab.alice });
      expect(link.statusCode).toBe(200);
      const signed = link.json().url as string;
      expect(signed.startsWith(`${S3_TEST!.endpoint}/`)).toBe(true);
      const ranged = await fetch(signed, { headers: { range: 'bytes=1000-1999' } });
      expect(ranged.status).toBe(206);
      expect(ranged.headers.get('content-type')).toBe('video/mp4');
      expect(ranged.headers.get('content-disposition')).toContain('run%201.mp4');
      expect(Buffer.from(await ranged.arrayBuffer()).equals(body.subarray(1000, 2000))).toBe(true);
    }
    expect((await t.inject({ method: 'GET', url: `${lab.base}/nodes/${put.json().id}/download`, headers: lab.bob })).statusCode).toBe(404);
  });
});
