import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findRegisteredContent } from '../../src/lake/original/registered-content.js';
import type { LakeDb } from '../../src/lake/db.js';
import { createTestApp, DIALECTS, type TestApp } from '../helpers/app.js';
import { labProject, type LabProject } from '../helpers/lake.js';
import { complete, expectOk, hash16, init, local, md5, partUrls, putPart, sha256, split, uploadWhole } from './multipart-helpers.js';

const PART = 1024;

describe.each(DIALECTS)('multipart uploads (%s)', (dialect) => {
  let t: TestApp;
  let lab: LabProject;
  let blobsDir: string;
  const blobOf = (content: Buffer) => {
    const d = sha256(content);
    return join(blobsDir, d.slice(0, 2), d.slice(2, 4), d);
  };
  const staged = () => (existsSync(join(blobsDir, 'staging')) ? readdirSync(join(blobsDir, 'staging')) : []);

  beforeAll(async () => {
    t = await createTestApp(dialect, { DREAMLAKE_MAX_UPLOAD_BYTES: String(64 * 1024) });
    lab = await labProject(t);
    blobsDir = join(t.dataDir, 'blobs');
  });
  afterAll(() => t.close());

  it('takes parts in parallel, out of order and re-sent, and stores the assembled content under its sha256', async () => {
    const content = randomBytes(PART * 4 + 100);
    const started = await t.inject({ method: 'POST', url: '/files/upload/multipart/init', headers: lab.alice, payload: { owner: 'alice', project: 'lab', hash: hash16(content), contentType: 'video/mp4' } });
    expect(started.statusCode).toBe(201);
    expect(started.json()).toMatchObject({ uploadId: expect.any(String), key: expect.any(String), partSize: 10 * 1024 * 1024, expiresAt: expect.any(String) });
    const up = { uploadId: started.json().uploadId as string, key: started.json().key as string };
    const pieces = split(content, PART);
    const urls = await partUrls(t, lab.alice, up, [1, 2, 3, 4, 5]);
    expect(Object.keys(urls).sort()).toEqual(['1', '2', '3', '4', '5']);
    for (const url of Object.values(urls)) expect(url).toMatch(/^http:\/\/localhost(:80)?\/files\/upload\/part\?/);

    // Wrong bytes for part 2 first, then the right ones: the re-sent part replaces the first.
    const wrong = await putPart(t, urls['2'], randomBytes(PART));
    expect(wrong.statusCode).toBe(200);
    const answers = await Promise.all([5, 3, 1, 4, 2].map(async (n) => [n, await putPart(t, urls[String(n)], pieces[n - 1])] as const));
    const parts = answers.map(([n, res]) => {
      expect(res.statusCode).toBe(200);
      expect(res.headers.etag).toBe(`"${md5(pieces[n - 1])}"`);
      return { partNumber: n, etag: String(res.headers.etag).replace(/"/g, '') };
    });
    const done = expectOk(await t.inject({ method: 'GET', url: `/files/upload/multipart/parts-done?uploadId=${up.uploadId}&key=${encodeURIComponent(up.key)}`, headers: lab.alice }));
    expect(done.expired).toBe(false);
    expect(done.parts).toEqual(pieces.map((p, i) => ({ partNumber: i + 1, etag: md5(p), size: p.length })));

    const result = expectOk(await complete(t, lab.alice, up, parts.sort((a, b) => a.partNumber - b.partNumber)));
    expect(result).toMatchObject({ sha256: sha256(content), size: content.length });
    expect(existsSync(blobOf(content))).toBe(true);
    expect(staged()).toEqual([]);

    // A completed upload cannot be resumed: the CLI starts over.
    const after = expectOk(await t.inject({ method: 'GET', url: `/files/upload/multipart/parts-done?uploadId=${up.uploadId}&key=${encodeURIComponent(up.key)}`, headers: lab.alice }));
    expect(after).toEqual({ parts: [], expired: true });
    // Completing again (a retried request) answers the same.
    expect(expectOk(await complete(t, lab.alice, up, parts))).toMatchObject({ sha256: sha256(content) });
    expect((await putPart(t, urls['1'], pieces[0])).statusCode).toBe(409);
  });

  it('registers finished content with POST /files (found by uploader and hash), readable by its uploader only', async () => {
    const content = randomBytes(PART * 2 + 7);
    const id = await uploadWhole(t, lab.alice, content, PART, '/videos/drive.mp4');
    const file = expectOk(await t.inject({ method: 'GET', url: `/files/${id}`, headers: lab.alice }));
    expect(file).toMatchObject({ id, hash: sha256(content), name: '/videos/drive.mp4', originalName: 'drive.mp4', size: content.length, contentType: 'video/mp4', kind: 'video' });
    const raw = await t.inject({ method: 'GET', url: `/files/${id}/raw`, headers: { ...lab.alice, range: 'bytes=10-19' } });
    expect(raw.statusCode).toBe(206);
    expect(raw.rawPayload).toEqual(content.subarray(10, 20));
    expect(raw.headers['content-disposition']).toContain('drive.mp4');
    expect((await t.inject({ method: 'GET', url: `/files/${id}/raw`, headers: lab.alice })).rawPayload).toEqual(content);
    expect((await t.inject({ method: 'GET', url: `/files/${id}`, headers: lab.bob })).statusCode).toBe(404);
    expect((await t.inject({ method: 'GET', url: `/files/${id}/raw`, headers: lab.bob })).statusCode).toBe(404);
    expect((await t.inject({ method: 'GET', url: `/files/${id}` })).statusCode).toBe(401);

    const db = t.database.db as LakeDb;
    const aliceId = (await db.selectFrom('users').select('id').where('username', '=', 'alice').executeTakeFirstOrThrow()).id;
    const bobId = (await db.selectFrom('users').select('id').where('username', '=', 'bob').executeTakeFirstOrThrow()).id;
    const expected = { sha256: sha256(content), size: content.length, contentType: 'video/mp4' };
    expect(await findRegisteredContent(db, aliceId, { bssId: id })).toEqual(expected);
    expect(await findRegisteredContent(db, aliceId, { hash: hash16(content) })).toEqual(expected);
    expect(await findRegisteredContent(db, aliceId, { hash: hash16(content).toUpperCase() })).toEqual(expected);
    expect(await findRegisteredContent(db, bobId, { bssId: id })).toBeUndefined();
    expect(await findRegisteredContent(db, bobId, { hash: hash16(content) })).toBeUndefined();
    expect(await findRegisteredContent(db, aliceId, { hash: 'not-hex%' })).toBeUndefined();

    // Not bob's upload: his POST /files with that hash finds nothing.
    const stolen = await t.inject({ method: 'POST', url: '/files', headers: lab.bob, payload: { name: '/x.mp4', stagingHash: hash16(content) } });
    expect(stolen.statusCode).toBe(404);
  });

  it('resumes: parts-done lists what arrived, re-init answers the same upload, complete accepts the listed parts as they are', async () => {
    const content = randomBytes(PART * 3);
    const pieces = split(content, PART);
    const up = await init(t, lab.alice, content);
    const urls = await partUrls(t, lab.alice, up, [1, 2, 3]);
    await putPart(t, urls['1'], pieces[0]);
    await putPart(t, urls['3'], pieces[2]);
    // The client was killed here. Re-running with the same content finds the staged upload.
    const again = await t.inject({ method: 'POST', url: '/files/upload/multipart/init', headers: lab.alice, payload: { owner: 'alice', project: 'lab', hash: hash16(content), contentType: 'video/mp4' } });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ uploadId: up.uploadId, key: up.key });
    const done = expectOk(await t.inject({ method: 'GET', url: `/files/upload/multipart/parts-done?${new URLSearchParams(up)}`, headers: lab.alice }));
    expect(done.parts.map((p: { partNumber: number }) => p.partNumber)).toEqual([1, 3]);
    const missing = await partUrls(t, lab.alice, up, [2]);
    const res = await putPart(t, missing['2'], pieces[1]);
    const parts = [...done.parts, { partNumber: 2, etag: String(res.headers.etag).replace(/"/g, '') }].sort((a, b) => a.partNumber - b.partNumber);
    expect(expectOk(await complete(t, lab.alice, up, parts))).toMatchObject({ sha256: sha256(content), size: content.length });
    // POST /files names another project than init did: still found, by uploader and hash.
    const registered = await t.inject({ method: 'POST', url: '/files', headers: lab.alice, payload: { name: '/a.bin', owner: 'alice', project: 'other', stagingHash: hash16(content), size: content.length, kind: 'file', contentType: 'application/octet-stream', originalName: 'a.bin' } });
    expect(registered.statusCode).toBe(201);
  });

  it('refuses a wrong hash, a wrong size or unknown parts with a 400, and stores nothing', async () => {
    const content = randomBytes(PART + 10);
    const pieces = split(content, PART);
    const up = await init(t, lab.alice, content, undefined, hash16('something else'));
    const urls = await partUrls(t, lab.alice, up, [1, 2]);
    const parts = await Promise.all(pieces.map(async (p, i) => ({ partNumber: i + 1, etag: String((await putPart(t, urls[String(i + 1)], p)).headers.etag) })));
    const bad = await complete(t, lab.alice, up, parts);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toBe('checksum_mismatch');
    expect(existsSync(blobOf(content))).toBe(false);
    // Those parts can never make the announced content: the upload is gone, so the CLI starts over.
    expect((await t.inject({ method: 'GET', url: `/files/upload/multipart/parts-done?${new URLSearchParams(up)}`, headers: lab.alice })).statusCode).toBe(404);

    const sized = await init(t, lab.alice, content);
    const sizedUrls = await partUrls(t, lab.alice, sized, [1, 2]);
    const sizedParts = await Promise.all(pieces.map(async (p, i) => ({ partNumber: i + 1, etag: String((await putPart(t, sizedUrls[String(i + 1)], p)).headers.etag) })));
    const wrongSize = await complete(t, lab.alice, sized, sizedParts, { size: content.length + 1 });
    expect(wrongSize.statusCode).toBe(400);
    expect(wrongSize.json().error).toBe('size_mismatch');
    expect(existsSync(blobOf(content))).toBe(false);
    const unknownPart = await complete(t, lab.alice, sized, [...sizedParts, { partNumber: 3, etag: md5('x') }]);
    expect(unknownPart.statusCode).toBe(400);
    const wrongEtag = await complete(t, lab.alice, sized, [sizedParts[0], { partNumber: 2, etag: md5('x') }]);
    expect(wrongEtag.statusCode).toBe(400);
    const missingPart = await complete(t, lab.alice, sized, [sizedParts[1]]);
    expect(missingPart.statusCode).toBe(400);
    expect(existsSync(blobOf(content))).toBe(false);
    // Nothing was lost by the failed attempts: the staged upload still completes.
    expect(expectOk(await complete(t, lab.alice, sized, sizedParts, { size: content.length })).sha256).toBe(sha256(content));
    // POST /files checks the size too.
    const register = await t.inject({ method: 'POST', url: '/files', headers: lab.alice, payload: { name: '/b.bin', stagingHash: hash16(content), size: 3 } });
    expect(register.statusCode).toBe(400);
    expect(register.json().error).toBe('size_mismatch');
  });

  it('stores the content of two users uploading the same bytes once', async () => {
    const content = randomBytes(PART * 2);
    await t.inject({ method: 'PUT', url: '/namespaces/alice/members/bob', headers: lab.alice, payload: { role: 'write' } });
    const a = await uploadWhole(t, lab.alice, content, PART);
    const b = await uploadWhole(t, lab.bob, content, PART);
    expect(a).not.toBe(b);
    const d = sha256(content);
    expect(readdirSync(join(blobsDir, d.slice(0, 2), d.slice(2, 4))).filter((f) => f === d)).toHaveLength(1);
    expect(expectOk(await t.inject({ method: 'GET', url: `/files/${b}`, headers: lab.bob })).hash).toBe(d);
    await t.inject({ method: 'DELETE', url: '/namespaces/alice/members/bob', headers: lab.alice });
  });

  it('takes owner/project as labels (video upload sends "default"), refusing only a project the caller sees but may not write', async () => {
    const content = Buffer.from('hello\n');
    const initAs = (headers: Record<string, string>, owner: string, project: string, body = content) =>
      t.inject({ method: 'POST', url: '/files/upload/multipart/init', headers, payload: { owner, project, hash: hash16(body) } });
    // A project bob cannot see is a label like any other: no 404 tells him it exists, and nothing of alice's is touched.
    const outsider = await initAs(lab.bob, 'alice', 'lab');
    expect(outsider.statusCode).toBe(201);
    expect(outsider.json().key).not.toContain('alice');
    await t.inject({ method: 'PUT', url: '/namespaces/alice/members/bob', headers: lab.alice, payload: { role: 'read' } });
    const reader = await initAs(lab.bob, 'alice', 'lab', Buffer.from('reader'));
    expect(reader.statusCode).toBe(403);
    await t.inject({ method: 'DELETE', url: '/namespaces/alice/members/bob', headers: lab.alice });
    // `dreamlake video upload clip.mp4` with its defaults, then POST /files as it follows up (no node is made).
    const video = Buffer.from('a video');
    const { uploadId, key } = expectOk(await initAs(lab.alice, 'default', 'default', video), 201);
    const started = { uploadId, key };
    const [url] = Object.values(await partUrls(t, lab.alice, started, [1]));
    const etag = String((await putPart(t, url, video)).headers.etag).replace(/"/g, '');
    expectOk(await complete(t, lab.alice, started, [{ partNumber: 1, etag }]));
    const file = await t.inject({ method: 'POST', url: '/files', headers: lab.alice, payload: { name: 'clip', owner: 'default', project: 'default', stagingHash: hash16(video), kind: 'video', contentType: 'video/mp4', size: video.length } });
    expect(file.statusCode).toBe(201);
    expect((await t.inject({ method: 'GET', url: `/files/${file.json().id}/raw`, headers: lab.alice })).body).toBe('a video');
    const noAuth = await t.inject({ method: 'POST', url: '/files/upload/multipart/init', payload: { owner: 'alice', project: 'lab', hash: hash16(content) } });
    expect(noAuth.statusCode).toBe(401);
    const badHash = await t.inject({ method: 'POST', url: '/files/upload/multipart/init', headers: lab.alice, payload: { owner: 'alice', project: 'lab', hash: 'xyz' } });
    expect(badHash.statusCode).toBe(400);
    // Another user's upload is invisible.
    const up = await init(t, lab.alice, content);
    expect((await t.inject({ method: 'GET', url: `/files/upload/multipart/parts-done?${new URLSearchParams(up)}`, headers: lab.bob })).statusCode).toBe(404);
    expect((await t.inject({ method: 'POST', url: '/files/upload/multipart/parts', headers: lab.bob, payload: { ...up, partNumbers: [1] } })).statusCode).toBe(404);
    expect((await complete(t, lab.bob, up, [{ partNumber: 1, etag: md5(content) }])).statusCode).toBe(404);
    expect((await t.inject({ method: 'GET', url: `/files/upload/multipart/parts-done?uploadId=${up.uploadId}&key=other`, headers: lab.alice })).statusCode).toBe(404);
    expect((await t.inject({ method: 'GET', url: '/files/upload/multipart/parts-done?uploadId=nope&key=other', headers: lab.alice })).statusCode).toBe(404);
  });

  it('takes a part of any Content-Type (JSON included) as raw bytes, and a chunked one without Content-Length', async () => {
    const content = Buffer.from('{"a": [1, 2, 3]}\n');
    const up = await init(t, lab.alice, content);
    const urls = await partUrls(t, lab.alice, up, [1]);
    const res = await t.inject({ method: 'PUT', url: local(urls['1']), headers: { 'content-type': 'application/json' }, payload: content });
    expect(res.statusCode).toBe(200);
    expect(res.headers.etag).toBe(`"${md5(content)}"`);
    const chunked = await t.inject({ method: 'PUT', url: local(urls['1']), headers: { 'transfer-encoding': 'chunked' }, payload: Readable.from([content.subarray(0, 5), content.subarray(5)]) });
    expect(chunked.statusCode).toBe(200);
    expect(expectOk(await complete(t, lab.alice, up, [{ partNumber: 1, etag: md5(content) }])).sha256).toBe(sha256(content));
  });

  it('opens one staged upload for one uploader and hash, however many inits arrive at once', async () => {
    const content = randomBytes(100);
    const answers = await Promise.all(Array.from({ length: 6 }, () => t.inject({ method: 'POST', url: '/files/upload/multipart/init', headers: lab.alice, payload: { owner: 'alice', project: 'lab', hash: hash16(content) } })));
    expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 200, 200, 200, 200, 201]);
    expect(new Set(answers.map((a) => a.json().uploadId)).size).toBe(1);
  });

  it('builds signed links from a Host header only when it names a host (never http:///… nor a copied "<>)', async () => {
    const up = await init(t, lab.alice, randomBytes(10));
    for (const host of ['a"b<c>', 'x/y', '']) {
      const res = await t.inject({ method: 'POST', url: '/files/upload/multipart/parts', headers: { ...lab.alice, host }, payload: { ...up, partNumbers: [1] } });
      const url = new URL(expectOk(res).parts['1']);
      expect(url.host).toMatch(/^[0-9a-z.:[\]-]+$/);
      expect(url.pathname).toBe('/files/upload/part');
    }
    const named = await t.inject({ method: 'POST', url: '/files/upload/multipart/parts', headers: { ...lab.alice, host: 'lake.example:9000' }, payload: { ...up, partNumbers: [1] } });
    expect(expectOk(named).parts['1']).toMatch(/^http:\/\/lake\.example:9000\/files\/upload\/part\?/);
  });

  it('uploads an empty file as one empty part', async () => {
    const content = Buffer.alloc(0);
    expect(hash16(content)).toBe('e3b0c44298fc1c14');
    const id = await uploadWhole(t, lab.alice, content, PART, '/empty.txt');
    expect(expectOk(await t.inject({ method: 'GET', url: `/files/${id}`, headers: lab.alice })).size).toBe(0);
  });

  it('limits parts and files to the configured maximum (413)', async () => {
    const big = randomBytes(64 * 1024 + 1);
    const up = await init(t, lab.alice, big);
    const urls = await partUrls(t, lab.alice, up, [1, 2]);
    expect((await putPart(t, urls['1'], big)).statusCode).toBe(413);
    const half = big.length >> 1;
    const p1 = await putPart(t, urls['1'], big.subarray(0, half));
    const p2 = await putPart(t, urls['2'], big.subarray(half));
    const res = await complete(t, lab.alice, up, [
      { partNumber: 1, etag: String(p1.headers.etag) },
      { partNumber: 2, etag: String(p2.headers.etag) },
    ]);
    expect(res.statusCode).toBe(413);
    expect(existsSync(blobOf(big))).toBe(false);
  });

  it('aborts: the staged parts are gone, and so is the upload', async () => {
    const content = randomBytes(PART);
    const before = staged();
    const up = await init(t, lab.alice, content);
    const urls = await partUrls(t, lab.alice, up, [1]);
    await putPart(t, urls['1'], content);
    expect(staged()).toHaveLength(before.length + 1);
    expect((await t.inject({ method: 'DELETE', url: '/files/upload/multipart', headers: lab.bob, payload: up })).statusCode).toBe(404);
    expect(expectOk(await t.inject({ method: 'DELETE', url: '/files/upload/multipart', headers: lab.alice, payload: up }))).toEqual({ aborted: true });
    expect(staged()).toEqual(before);
    expect((await t.inject({ method: 'GET', url: `/files/upload/multipart/parts-done?${new URLSearchParams(up)}`, headers: lab.alice })).statusCode).toBe(404);
    expect((await putPart(t, urls['1'], content)).statusCode).toBe(404);
    expect((await complete(t, lab.alice, up, [{ partNumber: 1, etag: md5(content) }])).statusCode).toBe(404);

    // POST …/abort does the same.
    const other = await init(t, lab.alice, content);
    expect(staged()).toHaveLength(before.length + 1);
    expect(expectOk(await t.inject({ method: 'POST', url: '/files/upload/multipart/abort', headers: lab.alice, payload: other }))).toEqual({ aborted: true });
    expect(staged()).toEqual(before);
  });
});
