import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScriptTestApp, DIALECTS, type ScriptTestApp } from './helpers.js';

// The CouchDB endpoint spoken to directly (app.inject): databases, errors, the revision tree, one store
// with the REST API. Real PouchDB replication is in couch-pouchdb.test.ts.

const md5 = (s: string) => `md5-${createHash('md5').update(s).digest('base64')}`;

describe.each(DIALECTS)('Dreamscript CouchDB endpoint (%s)', (dialect) => {
  let t: ScriptTestApp;
  let key: string;
  beforeAll(async () => {
    t = await createScriptTestApp(dialect, { DREAMSCRIPT_RATE_LIMIT: '0', DREAMSCRIPT_CORS_ORIGINS: 'https://app.example' });
    key = await t.key();
  });
  afterAll(async () => t.close());

  const couch = (method: string, url: string, payload?: unknown, headers?: Record<string, string>) => t.couch(key, method, url, payload, headers);
  /** A revision id of 32 times `c`. */
  const hex = (c: string) => c.repeat(32);
  /** Database `db` with `c` in conflict (live leaves 1-a… and 1-b…, the winner, and a deleted 1-c…) and `plain`. */
  const conflictedDb = async (db: string) => {
    await couch('PUT', `/${db}`);
    await couch('POST', `/${db}/_bulk_docs`, {
      new_edits: false,
      docs: [
        { _id: 'c', _rev: `1-${hex('a')}`, v: 1 },
        { _id: 'c', _rev: `1-${hex('b')}`, v: 2 },
        { _id: 'c', _rev: `1-${hex('c')}`, _deleted: true },
        { _id: 'plain', _rev: `1-${hex('d')}` },
      ],
    });
  };
  const rest = (method: string, url: string, payload?: object) => t.call(key, { method: method as 'GET', url, ...(payload && { payload }) });

  it('answers the server root without credentials, ignoring an Authorization header it cannot parse', async () => {
    for (const headers of [{}, { authorization: 'Bearer not-a-key' }, { authorization: 'Basic %%%' }]) {
      const res = await t.app.inject({ method: 'GET', url: '/dreamscript/couch/', headers });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ couchdb: 'Welcome', version: '3.3.3' });
      expect(res.json().uuid).toMatch(/^[0-9a-f]{32}$/);
    }
    const denied = await t.app.inject({ method: 'GET', url: '/dreamscript/couch/_all_dbs' });
    expect(denied.statusCode).toBe(401);
    expect(denied.json()).toEqual({ error: 'unauthorized', reason: expect.any(String) });
  });

  it('accepts the key as X-API-Key or as the password of HTTP Basic', async () => {
    const basic = `Basic ${Buffer.from(`anyone:${key}`).toString('base64')}`;
    const res = await t.app.inject({ method: 'GET', url: '/dreamscript/couch/_all_dbs', headers: { authorization: basic } });
    expect(res.statusCode).toBe(200);
    const wrong = await t.app.inject({ method: 'GET', url: '/dreamscript/couch/_all_dbs', headers: { authorization: `Basic ${Buffer.from('anyone:nope').toString('base64')}` } });
    expect(wrong.statusCode).toBe(401);
  });

  it('creates (201, then 412), describes and deletes a database; its name is free again', async () => {
    expect((await couch('PUT', '/scratch')).statusCode).toBe(201);
    const again = await couch('PUT', '/scratch');
    expect(again.statusCode).toBe(412);
    expect(again.json()).toEqual({ error: 'file_exists', reason: expect.any(String) });
    await couch('PUT', '/scratch/doc1', { title: 'hello', tags: ['x'] });
    const info = (await couch('GET', '/scratch')).json();
    expect(info).toMatchObject({ db_name: 'scratch', doc_count: 1, doc_del_count: 0 });
    expect(typeof info.update_seq).toBe('string');
    const project = (await rest('GET', '/projects')).json().find((p: { name: string }) => p.name === 'scratch');
    expect((await couch('GET', `/${project.id}`)).json().doc_count).toBe(1);

    expect((await couch('DELETE', '/scratch')).json()).toEqual({ ok: true });
    expect((await couch('GET', '/scratch')).statusCode).toBe(404);
    expect((await rest('GET', `/projects/${project.id}`)).statusCode).toBe(404);
    expect(await t.db.selectFrom('script_documents').select('id').where('project_id', '=', project.id).execute()).toEqual([]);
    expect((await couch('PUT', '/scratch')).statusCode).toBe(201);
    expect((await couch('GET', '/scratch')).json().doc_count).toBe(0);
  });

  it('refuses names that are not valid database names, with CouchDB error shapes', async () => {
    for (const name of ['BadName', '_private', '9lives']) {
      const res = await couch('PUT', `/${name}`);
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toBe('illegal_database_name');
    }
    const missing = await couch('GET', '/nosuchdb');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: 'not_found', reason: 'Database does not exist.' });
  });

  it('lists each database once in _all_dbs and _dbs_info when projects share a name: the oldest by name, the others by ID', async () => {
    await couch('PUT', '/twin');
    const newer = [];
    for (let i = 0; i < 2; i++) newer.push((await rest('POST', '/projects', { name: 'twin' })).json().id as number);
    const oldest = (await rest('GET', '/projects?limit=1000')).json().find((p: { name: string }) => p.name === 'twin').id;
    // 0, 1 and 2 documents: the counts tell the databases apart.
    await couch('PUT', `/${newer[0]}/twin-a`, { title: 'x' });
    for (const id of ['twin-a', 'twin-b']) await couch('PUT', `/${newer[1]}/${id}`, { title: 'x' });
    const twins = ['twin', ...newer.map(String)];

    const listed = (await couch('GET', '/_all_dbs')).json() as string[];
    expect(listed.filter((name) => twins.includes(name))).toEqual([...twins].sort());
    expect(listed).toEqual([...listed].sort());
    // Each name listed opens its own database.
    const infos = (await couch('GET', '/_dbs_info')).json() as { key: string; info: { db_name: string; doc_count: number } }[];
    expect(infos.map((r) => r.key)).toEqual(listed);
    const counts = infos.filter((r) => twins.includes(r.key)).map((r) => [r.key, r.info.db_name, r.info.doc_count]);
    expect(counts).toEqual([[String(newer[0]), String(newer[0]), 1], [String(newer[1]), String(newer[1]), 2], ['twin', 'twin', 0]]);
    const posted = (await couch('POST', '/_dbs_info', { keys: twins })).json();
    expect(posted.map((r: { info: { doc_count: number } }) => r.info.doc_count)).toEqual([0, 1, 2]);

    // A key that sees only the newer two: the name opens the oldest of those (as GET /twin does), the other goes by ID.
    const scoped = await t.key({ projects: newer });
    expect((await t.couch(scoped, 'GET', '/_all_dbs')).json()).toEqual([String(newer[1]), 'twin'].sort());
    expect((await t.couch(scoped, 'GET', '/twin')).json().doc_count).toBe(1);
    expect((await couch('GET', '/twin')).json().doc_count).toBe(0);
    expect(oldest).toBeLessThan(newer[0]);
  });

  describe('documents', () => {
    beforeAll(async () => {
      await couch('PUT', '/docs');
    });

    it('writes and reads with CouchDB semantics: conflicts on stale revisions, deletions, _revisions', async () => {
      const created = await couch('PUT', '/docs/note', { title: 'v1', n: 1 });
      expect(created.statusCode).toBe(201);
      const rev1 = created.json().rev;
      expect(rev1).toMatch(/^1-[0-9a-f]{32}$/);
      expect((await couch('PUT', '/docs/note', { title: 'again' })).statusCode).toBe(409);
      const rev2 = (await couch('PUT', '/docs/note', { _rev: rev1, title: 'v2', n: 2 })).json().rev;
      const stale = await couch('PUT', '/docs/note', { _rev: rev1, title: 'lost' });
      expect(stale.statusCode).toBe(409);
      expect(stale.json()).toEqual({ error: 'conflict', reason: 'Document update conflict.' });

      const doc = (await couch('GET', '/docs/note?revs=true')).json();
      expect(doc).toMatchObject({ _id: 'note', _rev: rev2, title: 'v2', n: 2, _revisions: { start: 2, ids: [rev2.slice(2), rev1.slice(2)] } });
      expect((await couch('GET', `/docs/note?rev=${rev1}`)).json()).toMatchObject({ _rev: rev1, title: 'v1' });

      const del = await couch('DELETE', `/docs/note?rev=${rev2}`);
      expect(del.json()).toMatchObject({ ok: true, id: 'note' });
      const gone = await couch('GET', '/docs/note');
      expect(gone.statusCode).toBe(404);
      expect(gone.json()).toEqual({ error: 'not_found', reason: 'deleted' });
      const recreated = await couch('PUT', '/docs/note', { title: 'back' });
      expect(recreated.json().rev).toMatch(/^4-/);
    });

    it('branches on new_edits:false, picks the same winner as CouchDB and lists _conflicts', async () => {
      const a = '2-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
      const b = '2-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
      const root = '1-11111111111111111111111111111111';
      const push = (rev: string, title: string, extra: object = {}) =>
        couch('POST', '/docs/_bulk_docs', { new_edits: false, docs: [{ _id: 'fork', _rev: rev, _revisions: { start: 2, ids: [rev.slice(2), root.slice(2)] }, title, ...extra }] });
      expect((await push(a, 'from a')).statusCode).toBe(201);
      expect((await push(b, 'from b')).statusCode).toBe(201);
      const doc = (await couch('GET', '/docs/fork?conflicts=true')).json();
      expect(doc).toMatchObject({ _rev: b, title: 'from b', _conflicts: [a] });
      const all = (await couch('GET', '/docs/fork?open_revs=all')).json();
      expect(all.map((r: { ok: { _rev: string } }) => r.ok._rev).sort()).toEqual([a, b]);
      // The root was only named: it is in the tree, without a body.
      expect((await couch('GET', `/docs/fork?rev=${root}`)).statusCode).toBe(404);
      expect((await couch('POST', '/docs/_revs_diff', { fork: [a, root, '3-cccccccccccccccccccccccccccccccc'] })).json()).toEqual({
        fork: { missing: ['3-cccccccccccccccccccccccccccccccc'], possible_ancestors: expect.arrayContaining([a, b]) },
      });
      // The older replicators' _missing_revs: the same question, the missing revisions alone.
      const missingRevs = await couch('POST', '/docs/_missing_revs', { fork: [a, root, '3-cccccccccccccccccccccccccccccccc'], nowhere: ['1-abc'] });
      expect([missingRevs.statusCode, missingRevs.json()]).toEqual([200, { missing_revs: { fork: ['3-cccccccccccccccccccccccccccccccc'], nowhere: ['1-abc'] } }]);

      // Deleting the winning branch makes the other leaf win; the REST API follows.
      await couch('DELETE', `/docs/fork?rev=${b}`);
      expect((await couch('GET', '/docs/fork')).json()).toMatchObject({ _rev: a, title: 'from a' });
      const changes = (await couch('GET', '/docs/_changes?style=all_docs')).json();
      const fork = changes.results.find((c: { id: string }) => c.id === 'fork');
      expect(fork.changes.map((c: { rev: string }) => c.rev)).toEqual([a, expect.stringMatching(/^3-/)]);
      // The same page, with the documents and their conflicts (a live branch again), beside linear documents.
      await push('2-cccccccccccccccccccccccccccccccc', 'from c');
      await couch('PUT', '/docs/linear', { title: 'plain' });
      const page = (await couch('GET', '/docs/_changes?style=all_docs&include_docs=true&conflicts=true')).json().results;
      const forked = page.find((c: { id: string }) => c.id === 'fork');
      expect(forked.changes.map((c: { rev: string }) => c.rev)).toEqual(['2-cccccccccccccccccccccccccccccccc', a, expect.stringMatching(/^3-/)]);
      expect(forked.doc).toMatchObject({ _rev: '2-cccccccccccccccccccccccccccccccc', title: 'from c', _conflicts: [a] });
      const linear = page.find((c: { id: string }) => c.id === 'linear');
      expect(linear.doc).toMatchObject({ _id: 'linear', title: 'plain' });
      expect(linear.doc._conflicts).toBeUndefined();
      const light = (await couch('GET', '/docs/_changes')).json().results.find((c: { id: string }) => c.id === 'fork');
      expect(light).toEqual({ seq: forked.seq, id: 'fork', changes: [{ rev: '2-cccccccccccccccccccccccccccccccc' }] });
    });

    it('answers revs_info, deleted_conflicts and meta as CouchDB does', async () => {
      const root = '1-' + 'd'.repeat(32);
      const branch = (rev: string, extra: object = {}) =>
        couch('POST', '/docs/_bulk_docs', { new_edits: false, docs: [{ _id: 'meta', _rev: rev, _revisions: { start: 2, ids: [rev.slice(2), root.slice(2)] }, title: rev, ...extra }] });
      const [x, y, z] = ['2-' + 'e'.repeat(32), '2-' + 'f'.repeat(32), '2-' + 'a'.repeat(32)];
      for (const rev of [x, y]) expect((await branch(rev)).statusCode).toBe(201);
      expect((await branch(z, { _deleted: true })).statusCode).toBe(201); // a deleted leaf
      const plain = (await couch('GET', '/docs/meta')).json();
      expect(plain._rev).toBe(y);
      expect(plain).not.toHaveProperty('_revs_info');
      expect(plain).not.toHaveProperty('_deleted_conflicts');

      const info = (await couch('GET', '/docs/meta?revs_info=true')).json();
      // The root was only named by _revisions: its id is known, its body is not.
      expect(info._revs_info).toEqual([{ rev: y, status: 'available' }, { rev: root, status: 'missing' }]);
      expect((await couch('GET', `/docs/meta?rev=${z}&revs_info=true`)).json()._revs_info).toEqual([{ rev: z, status: 'deleted' }, { rev: root, status: 'missing' }]);
      expect((await couch('GET', '/docs/meta?deleted_conflicts=true')).json()).toMatchObject({ _deleted_conflicts: [z] });
      expect((await couch('GET', '/docs/meta?deleted_conflicts=true')).json()).not.toHaveProperty('_conflicts');
      const meta = (await couch('GET', '/docs/meta?meta=true')).json();
      expect(meta).toMatchObject({ _rev: y, _conflicts: [x], _deleted_conflicts: [z], _revs_info: info._revs_info });
      // The tree is read once for all of them: meta on top of revs costs no statement more.
      const cost = async (query: string) => {
        const before = t.statements();
        expect((await couch('GET', `/docs/meta?${query}`)).statusCode).toBe(200);
        return t.statements() - before;
      };
      const withMeta = await couch('GET', '/docs/meta?revs=true&meta=true');
      expect(withMeta.json()).toMatchObject({ ...meta, _revisions: { start: 2, ids: [y.slice(2), root.slice(2)] } });
      expect(await cost('revs=true&meta=true')).toBe(await cost('revs=true'));

      // Compaction keeps only the leaves' bodies: an edited document's older revision becomes missing.
      const first = (await couch('PUT', '/docs/edited', { title: 'v1' })).json().rev;
      const second = (await couch('PUT', '/docs/edited', { _rev: first, title: 'v2' })).json().rev;
      expect((await couch('GET', '/docs/edited?revs_info=true')).json()._revs_info).toEqual([{ rev: second, status: 'available' }, { rev: first, status: 'available' }]);
      await couch('POST', '/docs/_compact', undefined, { 'content-type': 'application/json' });
      expect((await couch('GET', '/docs/edited?revs_info=true')).json()._revs_info).toEqual([{ rev: second, status: 'available' }, { rev: first, status: 'missing' }]);
      // Read back and written again, the fields are not part of the document.
      const put = await couch('PUT', '/docs/meta', { ...meta, title: 'resolved' });
      expect(put.statusCode).toBe(201);
      const after = (await couch('GET', '/docs/meta')).json();
      expect(after).toMatchObject({ title: 'resolved' });
      expect(after).not.toHaveProperty('_revs_info');
    });

    it("places every write at the end of the feed: a document's last_seq is its newest revision's seq", async () => {
      // Revision seqs are taken before the rows are written (documents/commit.ts): check them against the rows.
      const docs = Array.from({ length: 450 }, (_, i) => ({ _id: `seq-${i}`, _rev: `1-${String(i).padStart(32, 'a')}`, title: `s${i}` }));
      expect((await couch('POST', '/docs/_bulk_docs', { new_edits: false, docs })).statusCode).toBe(201);
      const updated = (await couch('POST', '/docs/_bulk_docs', { docs: [{ _id: 'seq-7', _rev: docs[7]._rev, title: 'again' }, { _id: 'seq-new', title: 'new' }] })).json();
      await couch('POST', '/docs/_bulk_docs', { new_edits: false, docs: [{ _id: 'seq-3', _rev: `2-${'b'.repeat(32)}`, _revisions: { start: 2, ids: ['b'.repeat(32), 'a'.repeat(29) + '003'] }, title: 'branch' }] });
      await rest('POST', '/documents', { title: 'from REST' });
      const rows = await t.db.selectFrom('script_documents as d').select(['d.couch_id', 'd.last_seq', (eb) => eb.selectFrom('script_revisions as r').select((e) => e.fn.max('r.seq').as('m')).whereRef('r.document_id', '=', 'd.id').as('newest')]).execute();
      for (const row of rows) expect(Number(row.last_seq)).toBe(Number(row.newest));
      const seqOf = (id: string) => Number(rows.find((r) => r.couch_id === id)!.last_seq);
      expect(seqOf('seq-1')).toBeGreaterThan(seqOf('seq-0'));
      expect(seqOf('seq-7')).toBeGreaterThan(seqOf('seq-449'));
      expect(seqOf('seq-new')).toBeGreaterThan(seqOf('seq-7'));
      expect(seqOf('seq-3')).toBeGreaterThan(seqOf('seq-new'));
      expect(updated.every((r: { ok?: boolean }) => r.ok)).toBe(true);
      const feed = (await couch('GET', '/docs/_changes')).json().results.map((c: { id: string }) => c.id);
      expect(feed.slice(-3)).toEqual(['seq-7', 'seq-new', 'seq-3']);
    });

    it('is one store with the REST API, both ways', async () => {
      const project = (await couch('GET', '/docs')).json();
      expect(project.db_name).toBe('docs');
      const projectId = (await rest('GET', '/projects')).json().find((p: { name: string }) => p.name === 'docs').id;
      const before = (await rest('GET', '/changes?since=now')).json().last_seq;

      const viaRest = (await rest('POST', '/documents', { title: 'from REST', content: 'x', projectId })).json();
      const couchDoc = (await couch('GET', `/docs/${viaRest.id}`)).json();
      expect(couchDoc).toEqual({ _id: String(viaRest.id), _rev: viaRest._rev, title: 'from REST', content: 'x' });

      const pushed = (await couch('PUT', '/docs/pushed-id', { title: 'from Couch', content: 'y', extra: { deep: true } })).json();
      const row = await t.db.selectFrom('script_documents').select(['id', 'couch_id']).where('couch_id', '=', 'pushed-id').executeTakeFirstOrThrow();
      const viaGet = (await rest('GET', `/documents/${row.id}`)).json();
      expect(viaGet).toMatchObject({ id: row.id, title: 'from Couch', content: 'y', projectId, _rev: pushed.rev });

      // A REST edit keeps the fields only CouchDB clients see.
      const edited = (await rest('PATCH', `/documents/${row.id}`, { title: 'edited' })).json();
      expect((await couch('GET', '/docs/pushed-id')).json()).toEqual({ _id: 'pushed-id', _rev: edited._rev, title: 'edited', content: 'y', extra: { deep: true } });

      const restFeed = (await rest('GET', `/changes?since=${before}`)).json();
      const couchFeed = (await couch('GET', `/docs/_changes?since=${before}`)).json();
      expect(couchFeed.results.map((c: { seq: string; changes: { rev: string }[] }) => [Number(c.seq), c.changes[0].rev])).toEqual(
        restFeed.results.map((c: { seq: number; _rev: string }) => [c.seq, c._rev]),
      );
    });

    it('takes back through the REST API every revision form the CouchDB endpoint takes', async () => {
      await couch('PUT', '/rev-forms');
      const forms = ['1-0123456789abcdef0123456789abcdef01234567', '1-x', `1-${'Z'.repeat(64)}`];
      const pushed = await couch('POST', '/rev-forms/_bulk_docs', { new_edits: false, docs: forms.map((_rev, i) => ({ _id: `f${i}`, _rev, title: 't' })) });
      expect(pushed.statusCode).toBe(201);
      for (const [i, rev] of forms.entries()) {
        const id = (await t.db.selectFrom('script_documents').select('id').where('couch_id', '=', `f${i}`).executeTakeFirstOrThrow()).id;
        const shown = await rest('GET', `/documents/${id}?rev=${rev}`);
        expect([shown.statusCode, shown.json()._rev, shown.headers.etag], rev).toEqual([200, rev, `"${rev}"`]);
        const put = await t.call(key, { method: 'PUT', url: `/documents/${id}`, payload: { title: 'put' }, headers: { 'if-match': `"${rev}"` } });
        expect(put.statusCode, rev).toBe(200);
        // The revision it replaced is stale now: a 409, not a 400.
        expect((await rest('PATCH', `/documents/${id}`, { title: 'patch', _rev: rev })).statusCode, rev).toBe(409);
        expect((await rest('DELETE', `/documents/${id}?rev=${rev}`)).statusCode, rev).toBe(409);
        const patched = await rest('PATCH', `/documents/${id}`, { title: 'patch', _rev: put.json()._rev });
        expect(patched.statusCode, rev).toBe(200);
        const bulk = (await rest('POST', '/documents/_bulk', { docs: [{ id, _rev: rev, _deleted: true }] })).json();
        expect(bulk.results[0], rev).toMatchObject({ id, error: 'conflict' });
      }
      // What the CouchDB endpoint refuses, the REST API refuses too.
      const id = (await rest('GET', '/projects?limit=1000')).json().find((p: { name: string }) => p.name === 'rev-forms').id;
      const restDoc = (await rest('POST', '/documents', { title: 'r', projectId: id })).json();
      for (const bad of ['0-x', '1-a_b', `1-${'a'.repeat(65)}`, '1000000000-x']) {
        expect((await couch('PUT', `/rev-forms/bad`, { _rev: bad })).json(), bad).toEqual({ error: 'bad_request', reason: 'Invalid rev format' });
        expect((await rest('DELETE', `/documents/${restDoc.id}?rev=${bad}`)).statusCode, bad).toBe(400);
        expect((await rest('PATCH', `/documents/${restDoc.id}`, { title: 'x', _rev: bad })).statusCode, bad).toBe(400);
      }
      expect((await rest('GET', `/documents/${restDoc.id}`)).json()._rev).toBe(restDoc._rev);
    });

    it('refuses (409) a REST move into a project where the document\'s _id is taken, and changes nothing', async () => {
      await couch('PUT', '/move-a');
      await couch('PUT', '/move-b');
      const projects = (await rest('GET', '/projects?limit=1000')).json() as { id: number; name: string }[];
      const [a, b] = ['move-a', 'move-b'].map((name) => projects.find((p) => p.name === name)!.id);
      await couch('PUT', '/move-a/same', { title: 'in A' });
      await couch('PUT', '/move-b/same', { title: 'in B' });
      await couch('PUT', '/move-b/gone', { title: 'deleted in B' });
      const gone = (await couch('GET', '/move-b/gone')).json();
      await couch('DELETE', `/move-b/gone?rev=${gone._rev}`);
      await couch('PUT', '/move-a/gone', { title: 'live in A' });
      // A REST document's _id is its ID: a pushed document of B may already answer to it.
      const restDoc = (await rest('POST', '/documents', { title: 'numeric', projectId: a })).json();
      await couch('PUT', `/move-b/${restDoc.id}`, { title: 'pushed with that _id' });
      const idOf = async (couchId: string) =>
        (await t.db.selectFrom('script_documents').select('id').where('project_id', '=', a).where('couch_id', '=', couchId).executeTakeFirstOrThrow()).id;
      const [same, goneInA] = [await idOf('same'), await idOf('gone')];
      const before = (await rest('GET', '/changes?since=now')).json().last_seq;

      const refused = [
        await rest('PATCH', `/documents/${same}`, { projectId: b }),
        await rest('PUT', `/documents/${same}`, { title: 'x', projectId: b }),
        await rest('PATCH', `/documents/${goneInA}`, { projectId: b }),
        await rest('PATCH', `/documents/${restDoc.id}`, { projectId: b }),
      ];
      expect(refused.map((r) => [r.statusCode, r.json().error])).toEqual(Array(4).fill([409, 'conflict']));
      const bulk = (await rest('POST', '/documents/_bulk', { docs: [{ id: same, title: 'x', projectId: b }] })).json();
      expect(bulk.results).toMatchObject([{ id: same, error: 'conflict' }]);

      // Nothing moved: each database still has one document per _id.
      expect((await rest('GET', `/changes?since=${before}`)).json().results).toEqual([]);
      const ids = async (db: string) => (await couch('GET', `/${db}/_all_docs`)).json().rows.map((r: { id: string }) => r.id);
      expect(await ids('move-a')).toEqual([String(restDoc.id), 'gone', 'same'].sort());
      expect(await ids('move-b')).toEqual([String(restDoc.id), 'same']);
      expect((await couch('GET', '/move-b/same')).json().title).toBe('in B');
      // A move that meets no one is still fine.
      expect((await rest('PATCH', `/documents/${same}`, { projectId: null })).statusCode).toBe(200);
    });

    it('gives a pushed _id that reads as a free int64 ID that ID, so no later REST document answers to the same _id', async () => {
      await couch('PUT', '/numeric');
      const projectId = (await rest('GET', '/projects?limit=1000')).json().find((p: { name: string }) => p.name === 'numeric').id;
      const next = (await rest('POST', '/documents', { title: 'probe' })).json().id as number;
      const elsewhere = (await rest('POST', '/documents', { title: 'in no database' })).json().id as number;
      // Free IDs just ahead of the REST API's next ones, an ID another document has, and ones that never read as IDs.
      const [a, b] = [next + 5, next + 7];
      const pushed = await couch('POST', '/numeric/_bulk_docs', {
        docs: [a, 'not-a-number', elsewhere, b, '007', '9007199254740000'].map((id) => ({ _id: String(id), title: `pushed ${id}` })),
      });
      expect(pushed.statusCode).toBe(201);
      const stored = await t.db.selectFrom('script_documents').select(['id', 'couch_id']).where('project_id', '=', projectId).execute();
      const idOf = (couchId: string) => Number(stored.find((r) => r.couch_id === couchId)!.id);
      expect([idOf(String(a)), idOf(String(b))]).toEqual([a, b]);
      expect(idOf(String(elsewhere))).not.toBe(elsewhere);
      expect(idOf('9007199254740000')).toBeLessThan(2 ** 53 - 2 ** 40);
      // The REST API reads them by their _id, and hands out neither ID again.
      expect((await rest('GET', `/documents/${a}`)).json()).toMatchObject({ id: a, title: `pushed ${a}`, projectId });
      const created: number[] = [];
      for (let i = 0; i < 10; i++) created.push((await rest('POST', '/documents', { title: `rest ${i}`, projectId })).json().id);
      expect(created).not.toContain(a);
      expect(created).not.toContain(b);
      expect(new Set(created).size).toBe(10);
      const ids = (await couch('GET', '/numeric/_all_docs')).json().rows.map((r: { id: string }) => r.id);
      expect(ids.length).toBe(16);
      expect(new Set(ids).size).toBe(16); // one document per _id
    });

    it('keeps a title or content the REST API cannot show (not strings) unless a REST write sets it', async () => {
      await couch('PUT', '/rest-keeps');
      const projectId = (await rest('GET', '/projects?limit=1000')).json().find((p: { name: string }) => p.name === 'rest-keeps').id;
      await couch('PUT', '/rest-keeps/odd', { title: 5, content: { x: 1 }, other: true });
      const id = (await t.db.selectFrom('script_documents').select('id').where('couch_id', '=', 'odd').executeTakeFirstOrThrow()).id;
      expect((await rest('GET', `/documents/${id}`)).json()).toMatchObject({ title: '' });

      // A PATCH of another field, and one naming projectId only, change neither.
      await rest('PATCH', `/documents/${id}`, { projectId });
      expect((await couch('GET', '/rest-keeps/odd')).json()).toMatchObject({ title: 5, content: { x: 1 }, other: true });
      await rest('PATCH', `/documents/${id}`, { content: 'now text' });
      expect((await couch('GET', '/rest-keeps/odd')).json()).toMatchObject({ title: 5, content: 'now text', other: true });
      // What a write sets, it sets.
      await rest('PATCH', `/documents/${id}`, { title: 'named', content: null });
      const doc = (await couch('GET', '/rest-keeps/odd')).json();
      expect(doc).toMatchObject({ title: 'named', other: true });
      expect(doc.content).toBeUndefined();
    });

    it('pages the REST revisions of a branched document without skipping a revision, in one order on both databases', async () => {
      await couch('PUT', '/rest-revisions');
      const root = `1-${hex('1')}`;
      const branch = (c: string, gen: number) => ({ _id: 'b', _rev: `${gen}-${hex(c)}`, _revisions: { start: gen, ids: [hex(c), hex('1')] } });
      await couch('POST', '/rest-revisions/_bulk_docs', { new_edits: false, docs: [{ _id: 'b', _rev: root }, branch('b', 2), branch('a', 2), branch('c', 2)] });
      const id = (await t.db.selectFrom('script_documents').select('id').where('couch_id', '=', 'b').executeTakeFirstOrThrow()).id;
      const all = (await rest('GET', `/documents/${id}/revisions?limit=1000`)).json().map((r: { _rev: string }) => r._rev);
      expect(all).toEqual([root, `2-${hex('b')}`, `2-${hex('a')}`, `2-${hex('c')}`]);
      const walked: string[] = [];
      let next: string | undefined = `/documents/${id}/revisions?limit=1`;
      while (next) {
        const page = await rest('GET', next);
        walked.push(...page.json().map((r: { _rev: string }) => r._rev));
        next = (page.headers['x-next'] as string | undefined)?.replace('/dreamscript', '');
      }
      expect(walked).toEqual(all);
    });

    it('answers a REST delete of a conflicted document with its tombstone, though the other branch lives on', async () => {
      await couch('PUT', '/rest-delete');
      const docs = ['x', 'y'].map((id) => [`1-${hex('a')}`, `1-${hex('b')}`].map((_rev, v) => ({ _id: id, _rev, v })));
      await couch('POST', '/rest-delete/_bulk_docs', { new_edits: false, docs: docs.flat() });
      const idOf = async (couchId: string) => (await t.db.selectFrom('script_documents').select('id').where('couch_id', '=', couchId).executeTakeFirstOrThrow()).id;
      const [x, y] = [await idOf('x'), await idOf('y')];

      const deleted = await rest('DELETE', `/documents/${x}`);
      const tombstone = (await couch('GET', `/rest-delete/x?open_revs=all`, undefined, { accept: 'application/json' })).json()
        .map((r: { ok: { _rev: string; _deleted?: boolean } }) => r.ok)
        .find((d: { _deleted?: boolean }) => d._deleted)._rev;
      expect(tombstone).toMatch(/^2-/);
      expect([deleted.statusCode, deleted.json(), deleted.headers.etag]).toEqual([200, { id: x, _rev: tombstone, deleted: true }, `"${tombstone}"`]);
      // The losing branch is the winner now, in both APIs.
      expect((await rest('GET', `/documents/${x}`)).json()._rev).toBe(`1-${hex('a')}`);
      expect((await couch('GET', '/rest-delete/x')).json()).toEqual({ _id: 'x', _rev: `1-${hex('a')}`, v: 0 });

      const bulk = (await rest('POST', '/documents/_bulk', { docs: [{ id: y, _deleted: true }] })).json();
      const ytomb = (await couch('GET', `/rest-delete/y?rev=${bulk.results[0]._rev}`)).json();
      expect(bulk.results[0]._rev).toMatch(/^2-/);
      expect(ytomb).toMatchObject({ _id: 'y', _rev: bulk.results[0]._rev, _deleted: true });
    });

    it('writes a REST deletion (DELETE or _bulk) as an empty tombstone, as CouchDB\'s DELETE does', async () => {
      await couch('PUT', '/rest-tomb');
      const projectId = (await rest('GET', '/projects?limit=1000')).json().find((p: { name: string }) => p.name === 'rest-tomb').id;
      const attachment = { 'a.txt': { content_type: 'text/plain', data: Buffer.from('hi').toString('base64') } };
      for (const id of ['one', 'two']) await couch('PUT', `/rest-tomb/${id}`, { title: 't', content: 'c', tag: 'x', n: 12, _attachments: attachment });
      const restDoc = (await rest('POST', '/documents', { title: 't', content: 'c', projectId })).json();
      const idOf = async (couchId: string) => (await t.db.selectFrom('script_documents').select('id').where('couch_id', '=', couchId).executeTakeFirstOrThrow()).id;

      const deleted = (await rest('DELETE', `/documents/${await idOf('one')}`)).json()._rev;
      const bulk = (await rest('POST', '/documents/_bulk', { docs: [{ id: await idOf('two'), _deleted: true }, { id: restDoc.id, _deleted: true }] })).json();
      const tombstones = [['one', deleted], ['two', bulk.results[0]._rev], [String(restDoc.id), bulk.results[1]._rev]];
      for (const [id, rev] of tombstones) {
        expect((await couch('GET', `/rest-tomb/${id}?rev=${rev}`)).json(), id).toEqual({ _id: id, _rev: rev, _deleted: true });
        const leaves = (await couch('GET', `/rest-tomb/${id}?open_revs=all`, undefined, { accept: 'application/json' })).json();
        expect(leaves, id).toEqual([{ ok: { _id: id, _rev: rev, _deleted: true } }]);
      }
      const changes = (await couch('GET', '/rest-tomb/_changes?include_docs=true')).json().results;
      expect(changes.map((c: { doc: unknown }) => c.doc)).toEqual(tombstones.map(([_id, _rev]) => ({ _id, _rev, _deleted: true })));
      // A selector that matched the documents matches none of their tombstones.
      for (const selector of [{ tag: 'x' }, { title: 't' }]) {
        expect((await couch('POST', '/rest-tomb/_changes?filter=_selector', { selector })).json().results, JSON.stringify(selector)).toEqual([]);
      }
      expect(await t.db.selectFrom('script_attachment_refs').select('rev').where('rev', 'in', tombstones.map(([, rev]) => rev)).execute()).toEqual([]);
      // Tombstones stored before kept a REST document's title and content: a selector does not see them either.
      await t.db.updateTable('script_documents').set({ title: 't', content: 'c' }).where('id', '=', restDoc.id).execute();
      expect((await couch('POST', '/rest-tomb/_changes?filter=_selector', { selector: { title: 't' } })).json().results).toEqual([]);
    });

    it('keeps attachments in the blob store with CouchDB digests, inline and as stubs', async () => {
      const data = 'hello attachment';
      const put = await couch('PUT', '/docs/withatt', { title: 't', _attachments: { 'a.txt': { content_type: 'text/plain', data: Buffer.from(data).toString('base64') } } });
      expect(put.statusCode).toBe(201);
      const doc = (await couch('GET', '/docs/withatt')).json();
      expect(doc._attachments['a.txt']).toEqual({ content_type: 'text/plain', digest: md5(data), length: data.length, revpos: 1, stub: true });
      const raw = await couch('GET', '/docs/withatt/a.txt');
      expect(raw.body).toBe(data);
      expect(raw.headers['content-type']).toMatch(/^text\/plain/);
      expect(await t.db.selectFrom('script_revisions').select('body').where('body', 'like', `%${Buffer.from(data).toString('base64')}%`).execute()).toEqual([]);

      const added = await t.app.inject({ method: 'PUT', url: `/dreamscript/couch/docs/withatt/b.bin?rev=${put.json().rev}`, headers: { 'x-api-key': key, 'content-type': 'application/octet-stream' }, payload: Buffer.from([1, 2, 3]) });
      expect(added.statusCode).toBe(201);
      const both = (await couch('GET', '/docs/withatt?attachments=true')).json();
      expect(Object.keys(both._attachments).sort()).toEqual(['a.txt', 'b.bin']);
      expect(both._attachments['b.bin'].data).toBe(Buffer.from([1, 2, 3]).toString('base64'));
      const removed = await couch('DELETE', `/docs/withatt/a.txt?rev=${added.json().rev}`);
      expect(removed.statusCode).toBe(200);
      expect(Object.keys((await couch('GET', '/docs/withatt')).json()._attachments)).toEqual(['b.bin']);
    });

    it('serves an attachment with ranges (206, 416), If-None-Match (304), and as inert bytes if a browser opens it', async () => {
      const page = '<html><script>document.title = "ran"</script>0123456789</html>';
      const put = await couch('PUT', '/docs/withpage', { _attachments: { 'p.html': { content_type: 'text/html', data: Buffer.from(page).toString('base64') } } });
      expect(put.statusCode).toBe(201);
      const url = '/docs/withpage/p.html';
      const whole = await couch('GET', url);
      expect([whole.statusCode, whole.body, whole.headers['accept-ranges'], whole.headers['content-length']]).toEqual([200, page, 'bytes', String(page.length)]);
      // Served from the console's origin: an uploaded page may not run as one of its pages.
      expect(whole.headers['content-security-policy']).toBe("sandbox; default-src 'none'");
      expect(whole.headers['x-content-type-options']).toBe('nosniff');
      const part = await couch('GET', url, undefined, { range: 'bytes=8-13' });
      expect([part.statusCode, part.body, part.headers['content-range'], part.headers['content-length']]).toEqual([206, page.slice(8, 14), `bytes 8-13/${page.length}`, '6']);
      const tail = await couch('GET', url, undefined, { range: 'bytes=-7' });
      expect([tail.statusCode, tail.body]).toEqual([206, page.slice(-7)]);
      const outside = await couch('GET', url, undefined, { range: `bytes=${page.length}-` });
      expect([outside.statusCode, outside.headers['content-range'], outside.json().error]).toEqual([416, `bytes */${page.length}`, 'requested_range_not_satisfiable']);
      const etag = whole.headers.etag as string;
      const cached = await couch('GET', url, undefined, { 'if-none-match': etag });
      expect([cached.statusCode, cached.body]).toEqual([304, '']);
      // If-Range naming another version: the whole attachment.
      const changed = await couch('GET', url, undefined, { range: 'bytes=0-3', 'if-range': '"md5-other"' });
      expect([changed.statusCode, changed.body]).toEqual([200, page]);
      expect((await couch('GET', url, undefined, { range: 'bytes=0-3', 'if-range': etag })).statusCode).toBe(206);
    });

    it('answers batch=ok writes with CouchDB\'s 202 and no rev; the document is stored at once, a conflict is still a 409', async () => {
      const put = await couch('PUT', '/docs/batched?batch=ok', { v: 1 });
      expect([put.statusCode, put.json()]).toEqual([202, { ok: true, id: 'batched' }]);
      const stored = (await couch('GET', '/docs/batched')).json();
      expect(stored).toMatchObject({ _id: 'batched', v: 1, _rev: expect.stringMatching(/^1-/) });
      const posted = await couch('POST', '/docs?batch=ok', { _id: 'batched-post', v: 2 });
      expect([posted.statusCode, posted.json()]).toEqual([202, { ok: true, id: 'batched-post' }]);
      expect((await couch('GET', '/docs/batched-post')).json()).toMatchObject({ v: 2 });
      expect((await couch('PUT', '/docs/batched?batch=ok', { v: 3 })).statusCode).toBe(409);
      expect((await couch('GET', '/docs/batched')).json()._rev).toBe(stored._rev);
    });

    it('answers bad input with CouchDB errors and changes nothing', async () => {
      const count = async () => (await couch('GET', '/docs')).json().doc_count;
      const before = await count();
      const cases: [string, string, unknown, number, string][] = [
        ['PUT', '/docs/broken', '{"title": ', 400, 'bad_request'],
        ['PUT', '/docs/badrev', { _rev: 'not-a-rev', title: 'x' }, 400, 'bad_request'],
        ['PUT', '/docs/baddigest', { title: 'x', _attachments: { f: { content_type: 'text/plain', data: Buffer.from('abc').toString('base64'), digest: md5('abd') } } }, 400, 'content_md5_mismatch'],
        ['PUT', '/docs/_bogus', { title: 'x' }, 400, 'illegal_docid'],
        ['POST', '/docs', { _id: '_bogus', title: 'x' }, 400, 'illegal_docid'],
        ['PUT', '/docs/special', { _foo: 1 }, 400, 'doc_validation'],
        ['POST', '/docs/_bulk_docs', '[1,2', 400, 'bad_request'],
        ['POST', '/docs/_revs_diff', { broken: ['abc'] }, 400, 'bad_request'],
        // Nested past the server-wide bound (64 levels): refused before parsing, as on every other JSON route.
        ['PUT', '/docs/deep', `{"x":${'['.repeat(5000)}${']'.repeat(5000)}}`, 400, 'bad_request'],
        ['POST', '/docs/_bulk_docs', `{"docs":[{"_id":"deep2","x":${'{"a":'.repeat(100)}1${'}'.repeat(100)}}]}`, 400, 'bad_request'],
        ['PUT', '/Bad_Name', undefined, 400, 'illegal_database_name'],
        // More values than the server parses (parsed, 1.1 million `{}` would cost ~70 MB of heap): refused unparsed.
        ['POST', '/docs/_bulk_docs', `{"docs":[${'{"_id":"many"},'.repeat(1_100_000)}{}]}`, 413, 'too_large'],
        ['POST', '/docs/_revs_diff', `{"x":[${'{},'.repeat(1_100_000)}{}]}`, 413, 'too_large'],
      ];
      for (const [method, url, payload, status, error] of cases) {
        const res = await couch(method, url, payload, typeof payload === 'string' ? { 'content-type': 'application/json' } : {});
        expect(res.statusCode, `${method} ${url}`).toBe(status);
        expect(res.json(), `${method} ${url}`).toEqual({ error, reason: expect.any(String) });
      }
      // No body is no JSON, in CouchDB's words; JSON that is no object has its own reason.
      for (const url of ['/docs/nobody', '/docs/_bulk_docs', '/docs/_revs_diff']) {
        const res = await couch(url === '/docs/nobody' ? 'PUT' : 'POST', url);
        expect([res.statusCode, res.json()], url).toEqual([400, { error: 'bad_request', reason: 'invalid UTF-8 JSON' }]);
      }
      // CouchDB 3's words for an id only a reserved document may have, and for a document that is no object.
      const reserved = { error: 'illegal_docid', reason: 'Only reserved document ids may start with underscore.' };
      for (const [method, url, payload] of [['PUT', '/docs/_bogus', {}], ['POST', '/docs', { _id: '_bogus' }], ['POST', '/docs?batch=ok', { _id: '_x' }]] as const) {
        expect((await couch(method, url, payload)).json(), `${method} ${url}`).toEqual(reserved);
      }
      const notObject = { error: 'bad_request', reason: 'Document must be a JSON object' };
      for (const [method, url] of [['PUT', '/docs/array'], ['POST', '/docs'], ['PUT', '/docs/_local/array']]) {
        expect((await couch(method, url, '[1]', { 'content-type': 'application/json' })).json(), `${method} ${url}`).toEqual(notObject);
      }
      const items = (await couch('POST', '/docs/_bulk_docs', { docs: [{ _id: '_bad' }, { _id: '' }, { _id: 5 }, { _id: '_design/' }, [1]] })).json();
      expect(items).toEqual([
        { id: '_bad', ...reserved },
        { id: '', error: 'illegal_docid', reason: 'Document id must not be empty' },
        { error: 'illegal_docid', reason: 'Document id must be a string' },
        { id: '_design/', error: 'illegal_docid', reason: 'Illegal document id `_design/`' },
        notObject,
      ]);
      const bulk = (await couch('POST', '/docs/_bulk_docs', { docs: [{ _id: 'ok1', title: 'fine' }, { _id: 'bad1', _rev: 'zzz' }] })).json();
      expect(bulk[0]).toMatchObject({ ok: true, id: 'ok1' });
      expect(bulk[1]).toMatchObject({ id: 'bad1', error: 'bad_request' });
      expect(await count()).toBe(before + 1);
      expect((await couch('GET', '/docs/baddigest')).statusCode).toBe(404);
    });

    it('applies items of one _bulk_docs that name the same _id one after the other', async () => {
      const res = (await couch('POST', '/docs/_bulk_docs', { docs: [{ _id: 'dup', title: 'a' }, { _id: 'other', title: 'o' }, { _id: 'dup', title: 'b' }] })).json();
      expect(res.map((r: { id: string; ok?: boolean; error?: string }) => [r.id, r.ok ?? r.error])).toEqual([['dup', true], ['other', true], ['dup', 'conflict']]);
      const rev = res[0].rev as string;
      const again = (await couch('POST', '/docs/_bulk_docs', { docs: [{ _id: 'dup', _rev: rev, title: 'c' }, { _id: 'dup', _rev: rev, title: 'd' }] })).json();
      expect(again.map((r: { ok?: boolean; error?: string }) => r.ok ?? r.error)).toEqual([true, 'conflict']);
      const doc = (await couch('GET', '/docs/dup')).json();
      expect(doc).toMatchObject({ _rev: again[0].rev, title: 'c' });
    });

    it('keeps _local documents out of _changes and _all_docs', async () => {
      const first = (await couch('PUT', '/docs/_local/checkpoint', { last_seq: '5' })).json();
      expect(first).toEqual({ ok: true, id: '_local/checkpoint', rev: '0-1' });
      expect((await couch('PUT', '/docs/_local/checkpoint', { _rev: '0-1', last_seq: '6' })).json().rev).toBe('0-2');
      expect((await couch('PUT', '/docs/_local/checkpoint', { _rev: '0-1', last_seq: '7' })).statusCode).toBe(409);
      expect((await couch('GET', '/docs/_local/checkpoint')).json()).toEqual({ _id: '_local/checkpoint', _rev: '0-2', last_seq: '6' });
      // Without a rev it is overwritten; "0-0" only creates; a rev of a document that is not there conflicts.
      expect((await couch('PUT', '/docs/_local/checkpoint', { last_seq: '8' })).json().rev).toBe('0-3');
      expect((await couch('PUT', '/docs/_local/checkpoint', { _rev: '0-0', last_seq: '9' })).statusCode).toBe(409);
      expect((await couch('PUT', '/docs/_local/other', { _rev: '0-4', last_seq: '1' })).statusCode).toBe(409);
      expect((await couch('PUT', '/docs/_local/other', { _rev: '0-0', last_seq: '1' })).json().rev).toBe('0-1');
      expect((await couch('GET', '/docs/_local/checkpoint')).json()).toEqual({ _id: '_local/checkpoint', _rev: '0-3', last_seq: '8' });
      expect((await couch('DELETE', '/docs/_local/other')).json()).toEqual({ ok: true, id: '_local/other', rev: '0-0' });
      expect((await couch('GET', '/docs/_local/other')).statusCode).toBe(404);
      expect((await couch('DELETE', '/docs/_local/other')).statusCode).toBe(404);
      const all = (await couch('GET', '/docs/_all_docs')).json();
      expect(all.rows.some((r: { id: string }) => r.id.startsWith('_local'))).toBe(false);
      const changes = (await couch('GET', '/docs/_changes')).json();
      expect(changes.results.some((r: { id: string }) => r.id.startsWith('_local'))).toBe(false);
    });

    it('lists _local documents in _local_docs, with _all_docs\' options and no totals, as CouchDB 3', async () => {
      await couch('PUT', '/locals');
      for (const id of ['b', 'a', 'c']) await couch('PUT', `/locals/_local/${id}`, { n: id });
      await couch('PUT', '/locals/plain', { title: 'not local' });
      const ids = async (method: string, query: string, body?: object) =>
        (await couch(method, `/locals/_local_docs${query}`, body)).json().rows.map((r: { id?: string; key: string }) => r.id ?? `!${r.key}`);
      expect((await couch('GET', '/locals/_local_docs')).json()).toEqual({
        total_rows: null,
        offset: null,
        rows: ['a', 'b', 'c'].map((id) => ({ id: `_local/${id}`, key: `_local/${id}`, value: { rev: '0-1' } })),
      });
      expect(await ids('GET', '?descending=true&limit=2')).toEqual(['_local/c', '_local/b']);
      expect(await ids('GET', '?startkey="_local/b"&skip=1')).toEqual(['_local/c']);
      expect(await ids('GET', '?endkey="_local/b"&inclusive_end=false')).toEqual(['_local/a']);
      expect(await ids('POST', '', { keys: ['_local/c', '_local/zz', 'plain'] })).toEqual(['_local/c', '!_local/zz', '!plain']);
      const withDocs = (await couch('POST', '/locals/_local_docs', { include_docs: true, key: '_local/a' })).json();
      expect(withDocs.rows).toEqual([{ id: '_local/a', key: '_local/a', value: { rev: '0-1' }, doc: { _id: '_local/a', _rev: '0-1', n: 'a' } }]);
      expect((await couch('GET', '/locals/_local_docs?limit=-1')).statusCode).toBe(400);
      expect((await couch('POST', '/locals/_local_docs', { keys: 'x' })).statusCode).toBe(400);
      // PouchDB's viewCleanup(): nothing to clean, CouchDB's answer.
      expect([(await couch('POST', '/locals/_view_cleanup')).statusCode]).toEqual([202]);
    });

    it('lists _all_docs by _id with keys, ranges, limit and descending', async () => {
      await couch('PUT', '/alldocs');
      await couch('POST', '/alldocs/_bulk_docs', { docs: ['c', 'a', 'b', 'd'].map((id) => ({ _id: id, title: id })) });
      const ids = async (query: string) => (await couch('GET', `/alldocs/_all_docs${query}`)).json().rows.map((r: { id?: string; key: string }) => r.id ?? `!${r.key}`);
      expect(await ids('')).toEqual(['a', 'b', 'c', 'd']);
      expect(await ids('?startkey="b"&endkey="c"')).toEqual(['b', 'c']);
      expect(await ids('?descending=true&limit=2')).toEqual(['d', 'c']);
      expect(await ids('?keys=["d","zz","a"]')).toEqual(['d', '!zz', 'a']);
      // skip alone (SQLite takes no OFFSET without a LIMIT: this was a 500), and limit from the body as from the query
      expect(await ids('?skip=1')).toEqual(['b', 'c', 'd']);
      expect((await couch('POST', '/alldocs/_all_docs?skip=2', { limit: 1 })).json().rows.map((r: { id: string }) => r.id)).toEqual(['c']);
      for (const limit of [-1, 1.5, 1e300, 'x']) {
        const refused = await couch('POST', '/alldocs/_all_docs', { limit });
        expect([refused.statusCode, refused.json().error], String(limit)).toEqual([400, 'bad_request']);
      }
      const withDocs = (await couch('POST', '/alldocs/_all_docs?include_docs=true', { keys: ['a'] })).json();
      expect(withDocs).toMatchObject({ total_rows: 4, rows: [{ id: 'a', doc: { _id: 'a', title: 'a' } }] });
      // Every option may come in a POST's body, as a JSON value; the query string's win (CouchDB 3).
      const posted = async (query: string, body: object) => (await couch('POST', `/alldocs/_all_docs${query}`, body)).json().rows.map((r: { id: string }) => r.id);
      expect(await posted('', { startkey: 'b', endkey: 'c' })).toEqual(['b', 'c']);
      expect(await posted('', { start_key: 'b', end_key: 'c', inclusive_end: false })).toEqual(['b']);
      expect(await posted('', { descending: true, limit: 2, skip: 1 })).toEqual(['c', 'b']);
      expect(await posted('', { key: 'd' })).toEqual(['d']);
      expect(await posted('?startkey="c"', { startkey: 'a' })).toEqual(['c', 'd']);
      const bodyDocs = (await couch('POST', '/alldocs/_all_docs', { include_docs: true, startkey: 'd' })).json();
      expect(bodyDocs.rows).toMatchObject([{ id: 'd', doc: { _id: 'd', title: 'd' } }]);
      const badSkip = await couch('POST', '/alldocs/_all_docs', { skip: 'x' });
      expect([badSkip.statusCode, badSkip.json().error]).toEqual([400, 'bad_request']);
      // Booleans as CouchDB's view parser reads them: true or false in any case, anything else its 400.
      expect(await ids('?descending=TRUE&limit=1')).toEqual(['d']);
      for (const query of ['?descending=yes', '?include_docs=1', '?inclusive_end=no&endkey="b"']) {
        const refused = await couch('GET', `/alldocs/_all_docs${query}`);
        expect([refused.statusCode, refused.json().error], query).toEqual([400, 'query_parse_error']);
      }
      expect((await couch('GET', '/alldocs/_all_docs?descending=yes')).json().reason).toBe('Invalid boolean parameter: "yes"');
      expect((await couch('POST', '/alldocs/_all_docs', { descending: 'yes' })).statusCode).toBe(400);
    });

    it('lists _conflicts in _all_docs with include_docs and conflicts=true, as CouchDB and PouchDB do', async () => {
      await conflictedDb('alldocs-conflicts');
      const docs = async (url: string, payload?: object) =>
        (await couch(payload ? 'POST' : 'GET', `/alldocs-conflicts/_all_docs${url}`, payload)).json().rows.map((r: { doc?: object }) => r.doc);
      const c = { _id: 'c', _rev: `1-${hex('b')}`, v: 2, _conflicts: [`1-${hex('a')}`] };
      const plain = { _id: 'plain', _rev: `1-${hex('d')}` };
      expect(await docs('?include_docs=true&conflicts=true')).toEqual([c, plain]);
      expect(await docs('?include_docs=true&conflicts=true&limit=1')).toEqual([c]);
      expect(await docs('?include_docs=true&conflicts=true', { keys: ['plain', 'c'] })).toEqual([plain, c]);
      expect(await docs('', { include_docs: true, conflicts: true, keys: ['c'] })).toEqual([c]);
      // Without conflicts=true (or without include_docs) there are none, as before.
      expect(await docs('?include_docs=true')).toEqual([{ _id: 'c', _rev: `1-${hex('b')}`, v: 2 }, plain]);
      expect(await docs('?conflicts=true')).toEqual([undefined, undefined]);
    });

    it('answers a _bulk_get item without rev with every leaf of the document, as CouchDB does', async () => {
      await conflictedDb('bulkget-leaves');
      const got = (await couch('POST', '/bulkget-leaves/_bulk_get', { docs: [{ id: 'c' }, { id: 'plain' }, { id: 'c', rev: `1-${hex('a')}` }] })).json();
      const revs = got.results.map((r: { docs: { ok: { _rev: string } }[] }) => r.docs.map((d) => d.ok._rev));
      expect(revs).toEqual([[`1-${hex('b')}`, `1-${hex('a')}`, `1-${hex('c')}`], [`1-${hex('d')}`], [`1-${hex('a')}`]]);
      expect(got.results[0].docs[2].ok).toEqual({ _id: 'c', _rev: `1-${hex('c')}`, _deleted: true });
    });

    it('answers a bad _bulk_get item (no id, a bad rev) with an error of its own, the others as usual', async () => {
      await couch('PUT', '/bulkget-errors');
      await couch('POST', '/bulkget-errors/_bulk_docs', { new_edits: false, docs: [{ _id: 'plain', _rev: `1-${'d'.repeat(32)}` }] });
      const res = await couch('POST', '/bulkget-errors/_bulk_get', { docs: [{ rev: `1-${'d'.repeat(32)}` }, { id: 'plain', rev: 'bad' }, { id: 7 }, { id: 'plain' }] });
      expect(res.statusCode).toBe(200);
      const bad = (id: unknown, rev: unknown, reason: string) => ({ id, docs: [{ error: { id, rev, error: 'bad_request', reason } }] });
      expect(res.json().results).toEqual([
        bad(null, null, 'document id missed'),
        bad('plain', 'bad', 'Invalid rev format'),
        bad(7, null, 'Document id must be a string'),
        { id: 'plain', docs: [{ ok: { _id: 'plain', _rev: `1-${'d'.repeat(32)}` } }] },
      ]);
      expect((await couch('POST', '/bulkget-errors/_bulk_get', { docs: [null] })).statusCode).toBe(400);
    });

    it('filters _changes by _doc_ids and by Mango _selector, and streams continuous and eventsource feeds', async () => {
      await couch('PUT', '/feeds');
      await couch('POST', '/feeds/_bulk_docs', {
        docs: [
          { _id: 'p1', type: 'post', n: 1, tags: ['a'] },
          { _id: 'p2', type: 'post', n: 5 },
          { _id: 'c1', type: 'comment', n: 3 },
          { _id: 'u1', name: 'Ann' },
        ],
      });
      const ids = (res: { json(): { results: { id: string }[] } }) => res.json().results.map((r) => r.id);
      expect(ids(await couch('POST', '/feeds/_changes?filter=_doc_ids', { doc_ids: ['c1', 'u1'] }))).toEqual(['c1', 'u1']);
      expect(ids(await couch('GET', '/feeds/_changes?filter=_doc_ids&doc_ids=["p2"]'))).toEqual(['p2']);
      const sel = async (selector: object) => ids(await couch('POST', '/feeds/_changes?filter=_selector', { selector }));
      expect(await sel({ type: 'post' })).toEqual(['p1', 'p2']);
      expect(await sel({ n: { $gt: 2 } })).toEqual(['p2', 'c1']);
      expect(await sel({ $or: [{ type: 'comment' }, { name: { $regex: '^A' } }] })).toEqual(['c1', 'u1']);
      expect(await sel({ $and: [{ type: 'post' }, { $not: { n: 1 } }] })).toEqual(['p2']);
      expect(await sel({ type: { $in: ['comment', 'x'] } })).toEqual(['c1']);
      expect(await sel({ name: { $exists: false }, tags: { $exists: true } })).toEqual(['p1']);
      expect((await couch('POST', '/feeds/_changes?filter=_selector&limit=1', { selector: { type: 'post' } })).json().results.length).toBe(1);
      // limit=0 has the same effect as 1, as CouchDB documents it; below 0 is a 400.
      expect(ids(await couch('GET', '/feeds/_changes?limit=0'))).toEqual(['p1']);
      expect((await couch('GET', '/feeds/_changes?limit=-1')).statusCode).toBe(400);
      expect((await couch('POST', '/feeds/_changes?filter=_selector', { selector: { n: { $bogus: 1 } } })).statusCode).toBe(400);
      const js = await couch('GET', '/feeds/_changes?filter=app/mine');
      expect(js.statusCode).toBe(400);
      expect(js.json().reason).toMatch(/does not run JavaScript/);

      const continuous = await couch('GET', '/feeds/_changes?feed=continuous&timeout=10');
      const lines = continuous.body.trim().split('\n').map((l) => JSON.parse(l));
      expect(lines.slice(0, 4).map((l) => l.id)).toEqual(['p1', 'p2', 'c1', 'u1']);
      expect(lines[4]).toHaveProperty('last_seq');
      const events = await couch('GET', '/feeds/_changes?feed=eventsource&timeout=10&limit=2');
      expect(events.headers['content-type']).toMatch(/text\/event-stream/);
      expect(events.body.match(/^data: /gm)?.length).toBe(2);
    });

    it('wakes a waiting longpoll on a write of this server and, on PostgreSQL, of another server process', async () => {
      await couch('PUT', '/live');
      const since = (await couch('GET', '/live')).json().update_seq;
      // SQLite has no cross-process notification: there the writer is this app.
      const peer = dialect === 'postgres' ? await t.peer() : t.app;
      const waiting = couch('GET', `/live/_changes?feed=longpoll&since=${since}&heartbeat=1000&timeout=20000`);
      await new Promise((r) => setTimeout(r, 200));
      const started = Date.now();
      await peer.inject({ method: 'PUT', url: '/dreamscript/couch/live/woken', headers: { 'x-api-key': key, 'content-type': 'application/json' }, payload: { title: 'w' } });
      const res = await waiting;
      expect(JSON.parse(res.body).results.map((r: { id: string }) => r.id)).toEqual(['woken']);
      expect(Date.now() - started).toBeLessThan(5000);
    });

    it('ends waiting feeds cleanly when the server shuts down', async () => {
      await couch('PUT', '/closing');
      const peer = await t.peer();
      const started = Date.now();
      const feeds = ['longpoll', 'continuous'].map((feed) =>
        peer.inject({ method: 'GET', url: `/dreamscript/couch/closing/_changes?feed=${feed}&since=now&timeout=60000&heartbeat=500`, headers: { 'x-api-key': key } }),
      );
      await new Promise((r) => setTimeout(r, 300));
      await peer.close();
      const [longpoll, continuous] = await Promise.all(feeds);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(JSON.parse(longpoll.body)).toMatchObject({ results: [] });
      expect(JSON.parse(continuous.body.trim().split('\n').pop()!)).toHaveProperty('last_seq');
    });

    it('answers CORS preflights and requests from the configured origins only', async () => {
      const preflight = await t.app.inject({
        method: 'OPTIONS',
        url: '/dreamscript/couch/docs/_changes',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization,content-type' },
      });
      expect(preflight.statusCode).toBe(204);
      expect(preflight.headers['access-control-allow-origin']).toBe('https://app.example');
      expect(preflight.headers['access-control-allow-headers']).toBe('authorization,content-type');
      const denied = await t.app.inject({ method: 'GET', url: '/dreamscript/couch/docs', headers: { origin: 'https://app.example' } });
      expect(denied.statusCode).toBe(401);
      expect(denied.headers['access-control-allow-origin']).toBe('https://app.example');
      const other = await couch('GET', '/docs', undefined, { origin: 'https://evil.example' });
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
    });

    it('stores design documents but does not run their JavaScript', async () => {
      const ddoc = { views: { all: { map: 'function (doc) { emit(doc._id); }' } } };
      expect((await couch('PUT', '/docs/_design/app', ddoc)).statusCode).toBe(201);
      expect((await couch('GET', '/docs/_design/app')).json()).toMatchObject({ _id: '_design/app', views: ddoc.views });
      const view = await couch('GET', '/docs/_design/app/_view/all');
      expect(view.statusCode).toBe(400);
      expect(view.json()).toEqual({ error: 'bad_request', reason: expect.stringMatching(/does not run JavaScript/) });
    });

    it('stems histories past _revs_limit and compacts old bodies away', async () => {
      await couch('PUT', '/stem');
      expect((await couch('PUT', '/stem/_revs_limit', 3)).json()).toEqual({ ok: true });
      let rev = (await couch('PUT', '/stem/d', { title: 'r1' })).json().rev;
      const revs = [rev];
      for (let i = 2; i <= 6; i++) {
        rev = (await couch('PUT', '/stem/d', { _rev: rev, title: `r${i}` })).json().rev;
        revs.push(rev);
      }
      const doc = (await couch('GET', '/stem/d?revs=true')).json();
      expect(doc._revisions.ids.length).toBe(3);
      expect((await couch('GET', `/stem/d?rev=${revs[0]}`)).statusCode).toBe(404);
      expect((await couch('GET', `/stem/d?rev=${revs[4]}`)).statusCode).toBe(200);

      const compact = await couch('POST', '/stem/_compact', undefined, { 'content-type': 'application/json' });
      expect(compact.statusCode).toBe(202);
      expect(compact.json()).toEqual({ ok: true });
      expect((await couch('GET', `/stem/d?rev=${revs[4]}`)).statusCode).toBe(404);
      const row = await t.db.selectFrom('script_documents').select('id').where('couch_id', '=', 'd').executeTakeFirstOrThrow();
      expect((await rest('GET', `/documents/${row.id}?rev=${revs[4]}`)).statusCode).toBe(404);
      expect((await couch('GET', '/stem/d')).json()).toMatchObject({ _rev: revs[5], title: 'r6' });
    });
  });

  describe('keys and scopes', () => {
    let scoped: string;
    let readOnly: string;
    beforeAll(async () => {
      await couch('PUT', '/mine');
      await couch('PUT', '/theirs');
      await couch('PUT', '/theirs/secret', { title: 'not yours' });
      const projects = (await rest('GET', '/projects')).json();
      const mine = projects.find((p: { name: string }) => p.name === 'mine').id;
      scoped = await t.key({ projects: [mine] });
      readOnly = await t.key({ readOnly: true });
    });

    it('a scoped key sees only its projects', async () => {
      const as = t.couch;
      expect((await as(scoped, 'GET', '/mine')).statusCode).toBe(200);
      for (const [method, url] of [['GET', '/theirs'], ['GET', '/theirs/secret'], ['GET', '/theirs/_changes'], ['DELETE', '/theirs']]) {
        const res = await as(scoped, method, url);
        expect(res.statusCode, `${method} ${url}`).toBe(403);
        expect(res.json()).toEqual({ error: 'forbidden', reason: expect.any(String) });
      }
      expect((await as(scoped, 'PUT', '/newdb')).statusCode).toBe(403);
      expect((await as(scoped, 'GET', '/_all_dbs')).json()).toEqual(['mine']);
      // _dbs_info: the databases named, or every one the key sees; others are errors of their own.
      const info = await as(scoped, 'POST', '/_dbs_info', { keys: ['mine', 'theirs', 'nowhere'] });
      expect(info.json()).toEqual([
        { key: 'mine', info: expect.objectContaining({ db_name: 'mine', doc_count: expect.any(Number) }) },
        { key: 'theirs', error: 'forbidden' },
        { key: 'nowhere', error: 'not_found' },
      ]);
      expect((await as(scoped, 'GET', '/_dbs_info')).json().map((r: { key: string }) => r.key)).toEqual(['mine']);
      const all = (await couch('GET', '/_dbs_info?descending=true&limit=2')).json() as { key: string; info: { db_name: string } }[];
      expect(all.map((r) => r.key)).toEqual((await couch('GET', '/_all_dbs')).json().reverse().slice(0, 2));
      expect(all.every((r) => r.info.db_name === r.key)).toBe(true);
      for (const body of [{}, { keys: 'mine' }, { keys: [1] }, { keys: Array(101).fill('mine') }]) {
        expect((await as(scoped, 'POST', '/_dbs_info', body)).statusCode, JSON.stringify(body).slice(0, 40)).toBe(400);
      }
    });

    it('a read-only key reads but never writes', async () => {
      const as = (method: string, url: string, payload?: object) => t.couch(readOnly, method, url, payload);
      expect((await as('GET', '/theirs/secret')).statusCode).toBe(200);
      for (const [method, url, payload] of [
        ['PUT', '/theirs/x', { title: 'no' }],
        ['POST', '/theirs/_bulk_docs', { docs: [{ _id: 'y' }] }],
        ['POST', '/theirs/_bulk_docs', { new_edits: false, docs: [{ _id: 'z', _rev: '1-abc' }] }],
        ['DELETE', '/theirs'],
        ['PUT', '/readonlydb'],
      ] as [string, string, object?][]) {
        const res = await as(method, url, payload);
        expect(res.statusCode, `${method} ${url}`).toBe(403);
        expect(res.json()).toEqual({ error: 'forbidden', reason: 'This API key is read-only.' });
      }
      expect((await couch('GET', '/theirs')).json().doc_count).toBe(1);
    });
  });
});
