import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, utimesSync } from 'node:fs';
import { get, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { loadOrCreateSecret } from '../../src/core/auth/jwt.js';
import { createUrlSigner } from '../../src/core/blobs/signing.js';
import type { LakeDb } from '../../src/lake/db.js';
import { downloadUrl, partUrl } from '../../src/lake/original/links.js';
import { uploadDb } from '../../src/lake/original/uploads-db.js';
import { createTestApp, DIALECTS, type TestApp } from '../helpers/app.js';
import { labProject, type LabProject } from '../helpers/lake.js';
import { complete, expectOk, init, local, partUrls, putPart, sha256, uploadWhole } from './multipart-helpers.js';

const HOUR = 3600_000;

/** A plain HTTP GET: no Authorization, only the headers given. */
function plainGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> {
  return new Promise((resolve, reject) => {
    get(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

describe.each(DIALECTS)('signed URLs and the expiry sweep (%s)', (dialect) => {
  let t: TestApp;
  let lab: LabProject;
  let origin: string;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    lab = await labProject(t);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.server.address();
    origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(() => t.close());

  const signer = () => createUrlSigner(loadOrCreateSecret(t.config));
  const putFile = async (path: string, content: Buffer | string) => {
    const res = await t.inject({ method: 'PUT', url: `${lab.base}/files${path}`, headers: { ...lab.alice, 'content-type': 'text/plain' }, payload: content });
    expect(res.statusCode).toBe(201);
    return res.json() as { id: string; sha256: string };
  };

  it('refuses tampered and expired part URLs with a 403, and takes the signed one without any header', async () => {
    const content = randomBytes(2048);
    const up = await init(t, lab.alice, content);
    const urls = await partUrls(t, lab.alice, up, [1, 2]);
    const url = new URL(urls['1']);

    const otherPart = new URL(url);
    otherPart.searchParams.set('partNumber', '2');
    const tampered = await putPart(t, otherPart.href, content);
    expect(tampered.statusCode).toBe(403);
    expect(tampered.json()).toMatchObject({ error: 'forbidden' });
    const later = new URL(url);
    later.searchParams.set('expires', String(Number(url.searchParams.get('expires')) + 3600));
    expect((await putPart(t, later.href, content)).statusCode).toBe(403);
    const badSig = new URL(url);
    badSig.searchParams.set('signature', 'A'.repeat(43));
    expect((await putPart(t, badSig.href, content)).statusCode).toBe(403);
    const noSig = new URL(url);
    noSig.searchParams.delete('signature');
    expect((await putPart(t, noSig.href, content)).statusCode).toBe(400);

    const expired = partUrl('http://localhost', signer(), up.uploadId, 1, Math.floor(Date.now() / 1000) - 1);
    const late = await putPart(t, expired, content);
    expect(late.statusCode).toBe(403);
    expect(late.json()).toMatchObject({ error: 'url_expired' });

    // The real URL, as a plain client with no Authorization header sends it over a real connection.
    const res = await fetch(`${origin}${local(urls['1'])}`, { method: 'PUT', body: content, headers: { 'content-type': 'video/mp4' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/);
    expect(expectOk(await complete(t, lab.alice, up, [{ partNumber: 1, etag: res.headers.get('etag')! }]))).toMatchObject({ sha256: sha256(content) });
  });

  it('builds absolute URLs from the request host, or from [dreamlake] public_url', async () => {
    const content = randomBytes(10);
    const up = await init(t, lab.alice, content);
    const viaPort = await fetch(`${origin}/files/upload/multipart/parts`, {
      method: 'POST',
      headers: { ...lab.alice, 'content-type': 'application/json' },
      body: JSON.stringify({ ...up, partNumbers: [1] }),
    });
    expect((await viaPort.json()).parts['1']).toMatch(new RegExp(`^${origin}/files/upload/part\\?`));

    const proxied = await createTestApp(dialect, { DREAMLAKE_PUBLIC_URL: 'https://lake.example.com/data/' });
    try {
      const p = await labProject(proxied);
      const pUp = await init(proxied, p.alice, content);
      const urls = await partUrls(proxied, p.alice, pUp, [1]);
      expect(urls['1']).toMatch(/^https:\/\/lake\.example\.com\/data\/files\/upload\/part\?/);
      const file = await proxied.inject({ method: 'PUT', url: `${p.base}/files/a.txt`, headers: p.alice, payload: 'abc' });
      const link = expectOk(await proxied.inject({ method: 'GET', url: `/nodes/${file.json().id}/download`, headers: p.alice }));
      expect(link.url).toMatch(/^https:\/\/lake\.example\.com\/data\/files\/signed\//);
    } finally {
      await proxied.close();
    }
  });

  it('hands out download links that a plain HTTP client follows without headers: Range, ETag, 304, the file name', async () => {
    const content = randomBytes(5000);
    const node = await putFile('/camera/front clip.mp4', content);
    const before = Date.now();
    const res = await fetch(`${origin}/nodes/${node.id}/download`, { headers: lab.alice });
    expect(res.status).toBe(200);
    const { url, expiresAt } = (await res.json()) as { url: string; expiresAt: string };
    expect(url.startsWith(`${origin}/files/signed/`)).toBe(true);
    expect(Date.parse(expiresAt) - before).toBeGreaterThan(3500_000);
    expect(Date.parse(expiresAt) - before).toBeLessThanOrEqual(3601_000);

    const whole = await plainGet(url);
    expect(whole.status).toBe(200);
    expect(whole.body).toEqual(content);
    expect(whole.headers.etag).toBe(`"${sha256(content)}"`);
    expect(whole.headers['content-disposition']).toBe(`attachment; filename="front clip.mp4"; filename*=UTF-8''front%20clip.mp4`);
    expect(whole.headers['x-content-type-options']).toBe('nosniff');
    expect(whole.headers['content-security-policy']).toContain('sandbox');

    const part = await plainGet(url, { range: 'bytes=100-199' });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe('bytes 100-199/5000');
    expect(part.body).toEqual(content.subarray(100, 200));
    expect((await plainGet(url, { 'if-none-match': `"${sha256(content)}"` })).status).toBe(304);
    expect((await plainGet(url, { range: 'bytes=9000-' })).status).toBe(416);
    const head = await t.inject({ method: 'HEAD', url: local(url) });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-length']).toBe('5000');
    expect((await t.inject({ method: 'HEAD', url: `${lab.base}/nodes/${node.id}/content` })).statusCode).toBe(401);
    expect((await t.inject({ method: 'GET', url: `${lab.base}/nodes/${node.id}/content`, headers: { authorization: 'Bearer nope' } })).statusCode).toBe(401);

    // The OpenAPI document tells which routes need the Bearer token.
    const doc = (await t.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(doc.paths['/files/signed/{nodeId}'].get.security).toBeUndefined();
    expect(doc.paths['/files/upload/part'].put.security).toBeUndefined();
    expect(doc.paths['/files/upload/multipart/init'].post.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths['/nodes/{id}/download'].get.security).toEqual([{ bearerAuth: [] }]);

    // The project-scoped routes (projects and spaces) answer the same kind of link.
    for (const alias of ['projects', 'spaces']) {
      const scoped = expectOk(await t.inject({ method: 'GET', url: `/namespaces/alice/${alias}/lab/nodes/${node.id}/download`, headers: lab.alice }));
      expect(scoped.url).toMatch(/\/files\/signed\//);
      const got = await t.inject({ method: 'GET', url: local(scoped.url) });
      expect(got.rawPayload).toEqual(content);
    }
  });

  it('keeps download links to readers, and signed: tampered, expired, deleted or replaced content is refused', async () => {
    const node = await putFile('/b.txt', 'first');
    expect((await t.inject({ method: 'GET', url: `/nodes/${node.id}/download`, headers: lab.bob })).statusCode).toBe(404);
    expect((await t.inject({ method: 'GET', url: `/namespaces/alice/projects/lab/nodes/${node.id}/download`, headers: lab.bob })).statusCode).toBe(404);
    expect((await t.inject({ method: 'GET', url: `/nodes/${node.id}/download` })).statusCode).toBe(401);
    expect((await t.inject({ method: 'GET', url: '/nodes/nope/download', headers: lab.alice })).statusCode).toBe(404);
    const folder = (await t.inject({ method: 'GET', url: `${lab.base}/nodes/lookup?path=/camera`, headers: lab.alice })).json();
    expect((await t.inject({ method: 'GET', url: `/nodes/${folder.id}/download`, headers: lab.alice })).statusCode).toBe(400);
    await t.inject({ method: 'PUT', url: '/namespaces/alice/members/bob', headers: lab.alice, payload: { role: 'read' } });
    expect((await t.inject({ method: 'GET', url: `/nodes/${node.id}/download`, headers: lab.bob })).statusCode).toBe(200);
    await t.inject({ method: 'DELETE', url: '/namespaces/alice/members/bob', headers: lab.alice });

    const { url } = expectOk(await t.inject({ method: 'GET', url: `/nodes/${node.id}/download`, headers: lab.alice }));
    expect((await t.inject({ method: 'GET', url: local(url) })).body).toBe('first');
    const tampered = new URL(url);
    tampered.searchParams.set('expires', String(Number(tampered.searchParams.get('expires')) + 1));
    expect((await t.inject({ method: 'GET', url: local(tampered.href) })).statusCode).toBe(403);
    const expired = downloadUrl('http://localhost', signer(), node.id, node.sha256, Math.floor(Date.now() / 1000) - 5);
    const late = await t.inject({ method: 'GET', url: local(expired) });
    expect(late.statusCode).toBe(403);
    expect(late.json().error).toBe('url_expired');

    await t.inject({ method: 'PUT', url: `${lab.base}/files/b.txt`, headers: lab.alice, payload: 'second' });
    expect((await t.inject({ method: 'GET', url: local(url) })).statusCode).toBe(404);
    const fresh = expectOk(await t.inject({ method: 'GET', url: `/nodes/${node.id}/download`, headers: lab.alice })).url;
    expect((await t.inject({ method: 'GET', url: local(fresh) })).body).toBe('second');
    await t.inject({ method: 'DELETE', url: `${lab.base}/nodes/${node.id}`, headers: lab.alice });
    expect((await t.inject({ method: 'GET', url: local(fresh) })).statusCode).toBe(404);
  });

  it('sweeps expired staged uploads at start-up and in dreamlake gc, and gc keeps registered content', async () => {
    const db = uploadDb(t.database.db as LakeDb);
    const staging = join(t.dataDir, 'blobs', 'staging');
    const expire = (uploadId: string) => db.updateTable('lake_uploads').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('id', '=', uploadId).execute();
    const stagedIds = () => (existsSync(staging) ? readdirSync(staging) : []);

    const content = randomBytes(100);
    const up = await init(t, lab.alice, content);
    const urls = await partUrls(t, lab.alice, up, [1]);
    await putPart(t, urls['1'], content);
    const before = stagedIds().length;
    await expire(up.uploadId);
    expect(expectOk(await t.inject({ method: 'GET', url: `/files/upload/multipart/parts-done?${new URLSearchParams(up)}`, headers: lab.alice }))).toEqual({ parts: [], expired: true });
    expect((await putPart(t, urls['1'], content)).statusCode).toBe(404);
    expect((await t.inject({ method: 'POST', url: '/files/upload/multipart/parts', headers: lab.alice, payload: { ...up, partNumbers: [1] } })).statusCode).toBe(404);
    // A new init of the same content starts a new upload rather than the expired one.
    expect((await init(t, lab.alice, content)).uploadId).not.toBe(up.uploadId);

    const peer = await t.peer(); // a server starting up sweeps
    await peer.close();
    expect(stagedIds()).toHaveLength(before); // one gone, the new one staged
    expect(await db.selectFrom('lake_uploads').select('id').where('id', '=', up.uploadId).executeTakeFirst()).toBeUndefined();

    // dreamlake gc sweeps too; registered content stays, content only an expired upload held goes.
    const kept = randomBytes(300);
    await uploadWhole(t, lab.alice, kept, 100);
    const dropped = randomBytes(200);
    const done = await init(t, lab.alice, dropped);
    const dUrls = await partUrls(t, lab.alice, done, [1]);
    const etag = String((await putPart(t, dUrls['1'], dropped)).headers.etag);
    expectOk(await complete(t, lab.alice, done, [{ partNumber: 1, etag }]));
    const other = await init(t, lab.alice, randomBytes(5));
    await putPart(t, (await partUrls(t, lab.alice, other, [1]))['1'], randomBytes(5));
    await expire(done.uploadId);
    await expire(other.uploadId);
    const otherDir = (await db.selectFrom('lake_uploads').select('store_upload_id').where('id', '=', other.uploadId).executeTakeFirstOrThrow()).store_upload_id;
    expect(stagedIds()).toContain(otherDir);
    const blobOf = (c: Buffer) => join(t.dataDir, 'blobs', sha256(c).slice(0, 2), sha256(c).slice(2, 4), sha256(c));
    const old = new Date(Date.now() - 2 * HOUR);
    for (const c of [kept, dropped]) utimesSync(blobOf(c), old, old);

    const out = vi.spyOn(console, 'log').mockImplementation(() => {});
    let printed: string;
    try {
      await main(['node', 'dreamlake', 'gc', '--data', t.dataDir, '--database', t.databaseArg, '--grace', '1h']);
    } finally {
      printed = out.mock.calls.map((c) => String(c[0])).join('\n');
      out.mockRestore();
    }
    expect(printed).toMatch(/and 2 expired staged uploads/);
    expect(existsSync(blobOf(kept))).toBe(true);
    expect(existsSync(blobOf(dropped))).toBe(false);
    expect(stagedIds()).not.toContain(otherDir);
    expect(await db.selectFrom('lake_uploads').select('id').where('id', 'in', [done.uploadId, other.uploadId]).execute()).toEqual([]);
  });
});
