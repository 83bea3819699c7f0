import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, localDb, remoteDb, type Pouch } from './couch-helpers.js';
import { createScriptTestApp, DIALECTS, type ScriptTestApp } from './helpers.js';

// Stock PouchDB (npm `pouchdb`, in-memory adapter) replicating with /dreamscript/couch over a real port.

const NO_LIMIT = { DREAMSCRIPT_RATE_LIMIT: '0' };

async function until<T>(what: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await what();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.each(DIALECTS)('PouchDB replication with the CouchDB endpoint (%s)', (dialect) => {
  let t: ScriptTestApp;
  let key: string;
  let base: string;
  beforeAll(async () => {
    t = await createScriptTestApp(dialect, NO_LIMIT);
    key = await t.key();
    base = await listen(t.app);
  });
  afterAll(async () => t.close());

  const rest = (method: string, url: string, payload?: object) => t.call(key, { method: method as 'GET', url, ...(payload && { payload }) });
  const projectId = async (name: string) => (await rest('GET', '/projects?limit=1000')).json().find((p: { name: string }) => p.name === name).id as number;
  const docIdOf = async (couchId: string) =>
    (await t.db.selectFrom('script_documents').select('id').where('couch_id', '=', couchId).executeTakeFirstOrThrow()).id;

  it('replicates one-shot both ways, as one store with the REST API', async () => {
    const local = localDb();
    await local.bulkDocs([{ _id: 'a', title: 'Alpha', content: 'one' }, { _id: 'b', title: 'Beta', tags: ['x', 'y'] }]);
    const remote = remoteDb(base, 'oneshot', key);
    const pushed = await local.replicate.to(remote);
    expect(pushed).toMatchObject({ ok: true, docs_written: 2, doc_write_failures: 0 });

    // A pushed document is a REST document, and a REST document is pulled.
    const a = (await rest('GET', `/documents/${await docIdOf('a')}`)).json();
    expect(a).toMatchObject({ title: 'Alpha', content: 'one', projectId: await projectId('oneshot'), _rev: (await local.get('a'))._rev });
    const fromRest = (await rest('POST', '/documents', { title: 'From REST', projectId: await projectId('oneshot') })).json();

    const other = localDb();
    const pulled = await other.replicate.from(remote);
    expect(pulled).toMatchObject({ ok: true, docs_written: 3 });
    expect(await other.get('b')).toMatchObject({ title: 'Beta', tags: ['x', 'y'] });
    expect(await other.get(String(fromRest.id))).toMatchObject({ title: 'From REST', _rev: fromRest._rev });

    // The same doc edited through REST comes down on the next pull.
    await rest('PATCH', `/documents/${fromRest.id}`, { content: 'edited' });
    expect((await other.replicate.from(remote)).docs_written).toBe(1);
    expect(await other.get(String(fromRest.id))).toMatchObject({ title: 'From REST', content: 'edited' });
  });

  it('replicates live both ways, with X-API-Key too', async () => {
    const local = localDb();
    const remote = remoteDb(base, 'livedb', key, 'header');
    await remote.info(); // creates the database
    const sync = local.sync(remote, { live: true, retry: false });
    try {
      await local.put({ _id: 'up', title: 'going up' });
      const up = await until(() => t.db.selectFrom('script_documents').select('title').where('couch_id', '=', 'up').executeTakeFirst(), (r) => r !== undefined);
      expect(up?.title).toBe('going up');

      await rest('POST', '/documents', { title: 'coming down', projectId: await projectId('livedb') });
      const all: Pouch = await until(() => local.allDocs({ include_docs: true }), (r: Pouch) => r.rows.length === 2);
      expect(all.rows.map((r: { doc: { title: string } }) => r.doc.title).sort()).toEqual(['coming down', 'going up']);
    } finally {
      sync.cancel();
    }
  });

  it('sync() after both sides edited offline: the same winner everywhere, the loser in _conflicts', async () => {
    const remote = remoteDb(base, 'conflicts', key);
    const alice = localDb();
    const bob = localDb();
    await alice.put({ _id: 'shared', title: 'original' });
    await alice.sync(remote);
    await bob.sync(remote);
    const doc = await bob.get('shared');
    await alice.put({ ...doc, title: 'alice was here' });
    await bob.put({ ...doc, title: 'bob was here' });
    await alice.sync(remote);
    await bob.sync(remote);
    await alice.sync(remote);

    const a = await alice.get('shared', { conflicts: true });
    const b = await bob.get('shared', { conflicts: true });
    const server = await remote.get('shared', { conflicts: true });
    expect(b._rev).toBe(a._rev);
    expect(server._rev).toBe(a._rev);
    expect(b.title).toBe(a.title);
    expect(a._conflicts).toHaveLength(1);
    expect(b._conflicts).toEqual(a._conflicts);
    expect(server._conflicts).toEqual(a._conflicts);
    expect(new Set([a.title, (await alice.get('shared', { rev: a._conflicts[0] })).title])).toEqual(new Set(['alice was here', 'bob was here']));
    // The REST API shows the winner.
    expect((await rest('GET', `/documents/${await docIdOf('shared')}`)).json()).toMatchObject({ title: a.title, _rev: a._rev });
  });

  it('replicates deletions both ways', async () => {
    const remote = remoteDb(base, 'deletions', key);
    const local = localDb();
    await local.bulkDocs([{ _id: 'x', title: 'x' }, { _id: 'y', title: 'y' }]);
    await local.sync(remote);
    await local.remove(await local.get('x'));
    await local.replicate.to(remote);
    expect((await rest('GET', `/documents/${await docIdOf('x')}`)).statusCode).toBe(404);
    await expect(remote.get('x')).rejects.toMatchObject({ status: 404, reason: 'deleted' });

    await rest('DELETE', `/documents/${await docIdOf('y')}`);
    await local.replicate.from(remote);
    await expect(local.get('y')).rejects.toMatchObject({ status: 404 });
  });

  it('replicates a 5 MB image attachment both ways, kept in the blob store', async () => {
    const remote = remoteDb(base, 'images', key);
    const local = localDb();
    const image = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), randomBytes(5 * 1024 * 1024)]);
    await local.put({ _id: 'photo', title: 'a photo', _attachments: { 'photo.png': { content_type: 'image/png', data: image } } });
    expect((await local.replicate.to(remote)).docs_written).toBe(1);

    const res = await fetch(`${base}/dreamscript/couch/images/photo/photo.png`, { headers: { 'x-api-key': key } });
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await res.arrayBuffer()).equals(image)).toBe(true);
    const meta = (await local.get('photo'))._attachments['photo.png'];
    expect((await remote.get('photo'))._attachments['photo.png']).toMatchObject({ digest: meta.digest, length: image.length, stub: true });
    const rows = await t.db.selectFrom('script_revisions').select('body').where('document_id', '=', await docIdOf('photo')).execute();
    expect(rows.every((r) => (r.body ?? '').length < 1000)).toBe(true);

    const other = localDb();
    await other.replicate.from(remote);
    expect(Buffer.from(await other.getAttachment('photo', 'photo.png')).equals(image)).toBe(true);
  });

  it('replicates 10,000 documents each way', { timeout: 180_000 }, async () => {
    const remote = remoteDb(base, 'tenk', key);
    const local = localDb();
    const docs = Array.from({ length: 10_000 }, (_, i) => ({ _id: `doc-${String(i).padStart(5, '0')}`, title: `doc ${i}`, n: i }));
    for (let i = 0; i < docs.length; i += 2000) await local.bulkDocs(docs.slice(i, i + 2000));
    let started = performance.now();
    const pushed = await local.replicate.to(remote, { batch_size: 500 });
    console.log(`${dialect}: pushed 10,000 docs in ${Math.round(performance.now() - started)} ms`);
    expect(pushed).toMatchObject({ ok: true, docs_written: 10_000, doc_write_failures: 0 });
    expect((await remote.info()).doc_count).toBe(10_000);

    const other = localDb();
    started = performance.now();
    const pulled = await other.replicate.from(remote, { batch_size: 500 });
    console.log(`${dialect}: pulled 10,000 docs in ${Math.round(performance.now() - started)} ms`);
    expect(pulled).toMatchObject({ ok: true, docs_written: 10_000 });
    expect((await other.info()).doc_count).toBe(10_000);
    expect(await other.get('doc-09999')).toMatchObject({ n: 9999 });
  });

  it('refuses a scoped key outside its projects, and lets a read-only key pull but not push', async () => {
    const owner = remoteDb(base, 'guarded', key);
    const source = localDb();
    await source.bulkDocs([{ _id: 'g1', title: 'g1' }, { _id: 'g2', title: 'g2' }]);
    await source.replicate.to(owner);
    await remoteDb(base, 'elsewhere', key).info();
    const scoped = await t.key({ projects: [await projectId('elsewhere')] });
    await expect(localDb().replicate.from(remoteDb(base, 'guarded', scoped))).rejects.toMatchObject({ status: 403, name: 'forbidden' });
    const intruder = localDb();
    await intruder.put({ _id: 'evil', title: 'evil' });
    await expect(intruder.replicate.to(remoteDb(base, 'guarded', scoped))).rejects.toMatchObject({ status: 403 });

    const readOnly = await t.key({ readOnly: true });
    const reader = localDb();
    const pulled = await reader.replicate.from(remoteDb(base, 'guarded', readOnly));
    expect(pulled).toMatchObject({ ok: true, docs_written: 2 });
    await reader.put({ _id: 'sneaky', title: 'sneaky' });
    const push = await reader.replicate.to(remoteDb(base, 'guarded', readOnly)).then(
      (r: { docs_written: number; doc_write_failures: number }) => r,
      (err: { status: number }) => err,
    );
    expect(push).toMatchObject({ status: 403 });
    expect((await owner.info()).doc_count).toBe(2);
  });
});

describe.each(DIALECTS)('PouchDB resumes from its checkpoint after a server restart (%s)', (dialect) => {
  let t: ScriptTestApp;
  beforeAll(async () => {
    t = await createScriptTestApp(dialect, NO_LIMIT);
  });
  afterAll(async () => t.close());

  it('a pull cut off by a restart continues where its checkpoint says', async () => {
    const key = await t.key();
    const base = await listen(t.app);
    const total = 3000;
    const headers = { 'x-api-key': key, 'content-type': 'application/json' };
    await fetch(`${base}/dreamscript/couch/restart`, { method: 'PUT', headers });
    const seeded = await fetch(`${base}/dreamscript/couch/restart/_bulk_docs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ docs: Array.from({ length: total }, (_, i) => ({ _id: `r${i}`, title: `r${i}` })) }),
    });
    expect(seeded.status).toBe(201);

    // The replication stops part-way (the client goes away: PouchDB cancels), then the server restarts.
    const local = localDb();
    let stopped = false;
    const first = local.replicate.from(remoteDb(base, 'restart', key), { batch_size: 100 });
    first.on('change', (info: { docs_written: number }) => {
      if (!stopped && info.docs_written >= 1000) {
        stopped = true;
        first.cancel();
      }
    });
    await first;
    // Let the requests PouchDB still had in flight finish, then stop the server.
    await new Promise((r) => setTimeout(r, 1000));
    await t.app.close();
    expect(stopped).toBe(true);
    const before = (await local.info()).doc_count;
    expect(before).toBeGreaterThanOrEqual(1000);
    expect(before).toBeLessThan(total);

    const restarted = await t.peer();
    const base2 = await listen(restarted);
    const second = await local.replicate.from(remoteDb(base2, 'restart', key), { batch_size: 100 });
    expect(second.ok).toBe(true);
    // Resumed: it did not read again what the checkpoint covers.
    expect(second.docs_read).toBeLessThanOrEqual(total - before + 100);
    expect((await local.info()).doc_count).toBe(total);
  });
});
