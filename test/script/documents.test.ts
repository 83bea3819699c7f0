import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScriptTestApp, DIALECTS, type ScriptTestApp } from './helpers.js';

describe.each(DIALECTS)('Dreamscript documents (%s)', (dialect) => {
  let t: ScriptTestApp;
  let key: string;
  let projectId: number;
  beforeAll(async () => {
    t = await createScriptTestApp(dialect);
    key = await t.key();
    projectId = (await t.call(key, { method: 'POST', url: '/projects', payload: { name: 'Scripts' } })).json().id;
  });
  afterAll(async () => t.close());

  const create = async (payload: object) => t.call(key, { method: 'POST', url: '/documents', payload });
  const stored = (id: number) => t.db.selectFrom('script_documents').selectAll().where('id', '=', id).executeTakeFirst();
  const revisions = (id: number) =>
    t.db.selectFrom('script_revisions').selectAll().where('document_id', '=', id).orderBy('generation').execute();
  const countDocuments = async () =>
    Number((await t.db.selectFrom('script_documents').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  it('creates a document as documented: 201 with int64 id, title and content, plus _rev and ETag', async () => {
    const res = await create({ title: 'New analysis', content: 'step1: load data\nstep2: transform' });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ title: 'New analysis', content: 'step1: load data\nstep2: transform' });
    expect(Number.isInteger(body.id)).toBe(true);
    expect(body._rev).toMatch(/^1-[0-9a-f]{32}$/);
    expect(res.headers.etag).toBe(`"${body._rev}"`);
    expect(res.headers.location).toBe(`/dreamscript/documents/${body.id}`);
    expect(body).not.toHaveProperty('projectId');
    const row = await stored(body.id);
    expect(row).toMatchObject({ title: 'New analysis', generation: 1, rev: body._rev, deleted: 0, project_id: null });
    expect(await revisions(body.id)).toHaveLength(1);
  });

  it('creates a document with only a title (content is optional) and in a project', async () => {
    const bare = await create({ title: 'Placeholder' });
    expect(bare.statusCode).toBe(201);
    expect(bare.json()).not.toHaveProperty('content');
    const inProject = await create({ title: 'In project', projectId });
    expect(inProject.statusCode).toBe(201);
    expect(inProject.json().projectId).toBe(projectId);
  });

  it('reads a document back by id', async () => {
    const { id, _rev } = (await create({ title: 'Intro script', content: "print('Hello')" })).json();
    const res = await t.call(key, { method: 'GET', url: `/documents/${id}` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id, title: 'Intro script', content: "print('Hello')", _rev });
    expect(res.headers.etag).toBe(`"${_rev}"`);
  });

  it('answers 304 to If-None-Match naming the current revision', async () => {
    const { id, _rev } = (await create({ title: 'Cached' })).json();
    const res = await t.call(key, { method: 'GET', url: `/documents/${id}`, headers: { 'if-none-match': `"${_rev}"` } });
    expect(res.statusCode).toBe(304);
    expect(res.body).toBe('');
    const stale = await t.call(key, { method: 'GET', url: `/documents/${id}`, headers: { 'if-none-match': '"1-00000000000000000000000000000000"' } });
    expect(stale.statusCode).toBe(200);
  });

  it('answers 404 for a document that does not exist', async () => {
    const res = await t.call(key, { method: 'GET', url: '/documents/987654' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'not_found', message: 'Document 987654 was not found.' });
  });

  describe('bad input is a clear 4xx and stores nothing', () => {
    it.each([
      ['missing title', { content: 'x' }, /title is required/],
      ['empty title', { title: '' }, /title/],
      ['blank title', { title: '   ' }, /title/],
      ['non-string title', { title: 42 }, /title must be string/],
      ['non-string content', { title: 'x', content: 7 }, /content/],
      ['unknown field', { title: 'x', color: 'red' }, /Unknown field color/],
      ['negative projectId', { title: 'x', projectId: -1 }, /projectId/],
      ['string projectId', { title: 'x', projectId: '1' }, /projectId/],
    ])('%s', async (_name, payload, message) => {
      const before = await countDocuments();
      const res = await create(payload);
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toBe('validation_error');
      expect(res.json().message).toMatch(message);
      expect(await countDocuments()).toBe(before);
    });

    it('malformed JSON', async () => {
      const before = await countDocuments();
      const res = await t.call(key, { method: 'POST', url: '/documents', payload: '{"title": ', headers: { 'content-type': 'application/json' } });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toBe('invalid_json');
      expect(await countDocuments()).toBe(before);
    });

    it('a body over 1 MiB', async () => {
      const before = await countDocuments();
      const res = await create({ title: 'big', content: 'x'.repeat(1024 * 1024 + 1) });
      expect(res.statusCode).toBe(413);
      expect(res.json().error).toBe('payload_too_large');
      expect(await countDocuments()).toBe(before);
    });

    it('a project that does not exist', async () => {
      const before = await countDocuments();
      const res = await create({ title: 'x', projectId: 424242 });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: 'invalid_request', message: 'Project 424242 does not exist.' });
      expect(await countDocuments()).toBe(before);
    });

    it.each(['abc', '-1', '0', '1.5', '99999999999999999999'])('document id %s', async (id) => {
      const res = await t.call(key, { method: 'GET', url: `/documents/${id}` });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toBe('validation_error');
      expect(res.json().message).toMatch(/documentId/);
    });
  });

  describe('revisions', () => {
    it('PUT replaces the whole document and makes a new revision; the old one stays readable', async () => {
      const first = (await create({ title: 'v1', content: 'one', projectId })).json();
      const res = await t.call(key, { method: 'PUT', url: `/documents/${first.id}`, payload: { title: 'v2' } });
      expect(res.statusCode).toBe(200);
      const second = res.json();
      expect(second._rev).toMatch(/^2-[0-9a-f]{32}$/);
      expect(second).not.toHaveProperty('content');
      expect(second).not.toHaveProperty('projectId');
      expect(res.headers.etag).toBe(`"${second._rev}"`);

      const old = await t.call(key, { method: 'GET', url: `/documents/${first.id}?rev=${first._rev}` });
      expect(old.statusCode).toBe(200);
      expect(old.json()).toMatchObject({ id: first.id, title: 'v1', content: 'one', projectId, _rev: first._rev });

      const history = await revisions(first.id);
      expect(history.map((r) => [r.generation, r.rev, r.title])).toEqual([
        [1, first._rev, 'v1'],
        [2, second._rev, 'v2'],
      ]);
    });

    it('PATCH merges title/content/projectId (null clears) into a new revision', async () => {
      const doc = (await create({ title: 'patch me', content: 'body' })).json();
      const moved = await t.call(key, { method: 'PATCH', url: `/documents/${doc.id}`, payload: { projectId } });
      expect(moved.statusCode).toBe(200);
      expect(moved.json()).toMatchObject({ title: 'patch me', content: 'body', projectId, _rev: expect.stringMatching(/^2-/) });
      const cleared = await t.call(key, { method: 'PATCH', url: `/documents/${doc.id}`, payload: { content: null, title: 'renamed' } });
      expect(cleared.json()).toMatchObject({ title: 'renamed', projectId, _rev: expect.stringMatching(/^3-/) });
      expect(cleared.json()).not.toHaveProperty('content');
      expect(await stored(doc.id)).toMatchObject({ title: 'renamed', content: null, project_id: projectId, generation: 3 });
    });

    it('PATCH accepts application/merge-patch+json and refuses an empty change', async () => {
      const doc = (await create({ title: 'merge' })).json();
      const res = await t.call(key, {
        method: 'PATCH',
        url: `/documents/${doc.id}`,
        payload: JSON.stringify({ content: 'merged' }),
        headers: { 'content-type': 'application/merge-patch+json' },
      });
      expect(res.statusCode).toBe(200);
      expect(res.json().content).toBe('merged');
      const empty = await t.call(key, { method: 'PATCH', url: `/documents/${doc.id}`, payload: { _rev: res.json()._rev } });
      expect(empty.statusCode).toBe(400);
      expect((await stored(doc.id))?.generation).toBe(2);
    });

    it('the _rev is generation plus a hash of the content', async () => {
      const a = (await create({ title: 'same', content: 'same' })).json();
      const b = (await create({ title: 'same', content: 'same' })).json();
      const c = (await create({ title: 'same', content: 'other' })).json();
      expect(a._rev).toBe(b._rev);
      expect(a._rev).not.toBe(c._rev);
    });

    it('a stale revision in If-Match or _rev is a 409 and changes nothing; the current one succeeds', async () => {
      const doc = (await create({ title: 'guarded' })).json();
      const v2 = (await t.call(key, { method: 'PUT', url: `/documents/${doc.id}`, payload: { title: 'v2', _rev: doc._rev } })).json();
      expect(v2._rev).toMatch(/^2-/);

      const viaHeader = await t.call(key, { method: 'PUT', url: `/documents/${doc.id}`, payload: { title: 'lost' }, headers: { 'if-match': `"${doc._rev}"` } });
      expect(viaHeader.statusCode).toBe(409);
      expect(viaHeader.json().error).toBe('conflict');
      const viaBody = await t.call(key, { method: 'PATCH', url: `/documents/${doc.id}`, payload: { title: 'lost', _rev: doc._rev } });
      expect(viaBody.statusCode).toBe(409);
      const viaDelete = await t.call(key, { method: 'DELETE', url: `/documents/${doc.id}?rev=${doc._rev}` });
      expect(viaDelete.statusCode).toBe(409);
      expect(await stored(doc.id)).toMatchObject({ title: 'v2', generation: 2, deleted: 0 });
      expect(await revisions(doc.id)).toHaveLength(2);

      const ok = await t.call(key, { method: 'PATCH', url: `/documents/${doc.id}`, payload: { title: 'v3' }, headers: { 'if-match': v2._rev } });
      expect(ok.statusCode).toBe(200);
      expect(ok.json()._rev).toMatch(/^3-/);
    });

    it('without a revision, writes are last-write-wins', async () => {
      const doc = (await create({ title: 'lww' })).json();
      await t.call(key, { method: 'PUT', url: `/documents/${doc.id}`, payload: { title: 'first' } });
      const res = await t.call(key, { method: 'PUT', url: `/documents/${doc.id}`, payload: { title: 'second' } });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ title: 'second', _rev: expect.stringMatching(/^3-/) });
    });

    // Revisions of other forms ("1-abc", 40 hex digits) are ones a replicator may push: they are a 409 when not current.
    it.each(['garbage', '"0-abc"', '"1-a_b"', `"1-${'a'.repeat(65)}"`, 'W/"1-00000000000000000000000000000000"', '1-ZZ00000000000000000000000000000-'])(
      'a garbage If-Match (%s) is a 400',
      async (ifMatch) => {
        const doc = (await create({ title: 'if-match' })).json();
        const res = await t.call(key, { method: 'PUT', url: `/documents/${doc.id}`, payload: { title: 'x' }, headers: { 'if-match': ifMatch } });
        expect(res.statusCode).toBe(400);
        expect(res.json().error).toBe('invalid_request');
        expect((await stored(doc.id))?.generation).toBe(1);
      },
    );

    it('If-Match and a _rev that disagree are a 400; a garbage _rev is a 400', async () => {
      const doc = (await create({ title: 'disagree' })).json();
      const res = await t.call(key, {
        method: 'PUT',
        url: `/documents/${doc.id}`,
        payload: { title: 'x', _rev: doc._rev },
        headers: { 'if-match': '"1-00000000000000000000000000000000"' },
      });
      expect(res.statusCode).toBe(400);
      const bad = await t.call(key, { method: 'PUT', url: `/documents/${doc.id}`, payload: { title: 'x', _rev: 'nope' } });
      expect(bad.statusCode).toBe(400);
      expect((await stored(doc.id))?.generation).toBe(1);
    });

    it('If-Match: * needs the document to exist, nothing more', async () => {
      const doc = (await create({ title: 'star' })).json();
      const res = await t.call(key, { method: 'PUT', url: `/documents/${doc.id}`, payload: { title: 'y' }, headers: { 'if-match': '*' } });
      expect(res.statusCode).toBe(200);
      const missing = await t.call(key, { method: 'PUT', url: '/documents/888888', payload: { title: 'y' }, headers: { 'if-match': '*' } });
      expect(missing.statusCode).toBe(404);
    });

    it('concurrent writers racing on one revision: exactly one wins', async () => {
      const doc = (await create({ title: 'race' })).json();
      const attempts = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          t.call(key, { method: 'PUT', url: `/documents/${doc.id}`, payload: { title: `writer ${i}`, _rev: doc._rev } }),
        ),
      );
      const codes = attempts.map((r) => r.statusCode).sort();
      expect(codes).toEqual([200, 409, 409, 409, 409, 409, 409, 409]);
      const winner = attempts.find((r) => r.statusCode === 200)!.json();
      expect(await stored(doc.id)).toMatchObject({ title: winner.title, generation: 2, rev: winner._rev });
      expect(await revisions(doc.id)).toHaveLength(2);
    });

    it('lists revisions oldest first, with x-next paging', async () => {
      const doc = (await create({ title: 'r1' })).json();
      for (const title of ['r2', 'r3', 'r4']) await t.call(key, { method: 'PUT', url: `/documents/${doc.id}`, payload: { title } });
      const first = await t.call(key, { method: 'GET', url: `/documents/${doc.id}/revisions?limit=3` });
      expect(first.statusCode).toBe(200);
      expect(first.json().map((r: { _rev: string }) => r._rev.split('-')[0])).toEqual(['1', '2', '3']);
      expect(first.json()[0]._rev).toBe(doc._rev);
      const next = await t.app.inject({ method: 'GET', url: first.headers['x-next'] as string, headers: { 'x-api-key': key } });
      expect(next.json().map((r: { _rev: string }) => r._rev.split('-')[0])).toEqual(['4']);
      expect(next.headers['x-next']).toBeUndefined();
      const missing = await t.call(key, { method: 'GET', url: '/documents/777777/revisions' });
      expect(missing.statusCode).toBe(404);
    });

    it('an unknown ?rev= is a 404, a malformed one a 400', async () => {
      const doc = (await create({ title: 'revs' })).json();
      const unknown = await t.call(key, { method: 'GET', url: `/documents/${doc.id}?rev=1-00000000000000000000000000000000` });
      expect(unknown.statusCode).toBe(404);
      const malformed = await t.call(key, { method: 'GET', url: `/documents/${doc.id}?rev=latest` });
      expect(malformed.statusCode).toBe(400);
    });
  });

  describe('delete', () => {
    it('writes a tombstone revision; reads answer 404 but history stays', async () => {
      const doc = (await create({ title: 'doomed', content: 'bye' })).json();
      const res = await t.call(key, { method: 'DELETE', url: `/documents/${doc.id}`, headers: { 'if-match': `"${doc._rev}"` } });
      expect(res.statusCode).toBe(200);
      const tombstone = res.json();
      expect(tombstone).toEqual({ id: doc.id, _rev: expect.stringMatching(/^2-[0-9a-f]{32}$/), deleted: true });

      expect((await t.call(key, { method: 'GET', url: `/documents/${doc.id}` })).statusCode).toBe(404);
      expect((await t.call(key, { method: 'PUT', url: `/documents/${doc.id}`, payload: { title: 'x' } })).statusCode).toBe(404);
      expect((await t.call(key, { method: 'DELETE', url: `/documents/${doc.id}` })).statusCode).toBe(404);
      expect((await t.call(key, { method: 'GET', url: `/documents/${doc.id}?rev=${tombstone._rev}` })).statusCode).toBe(404);
      const old = await t.call(key, { method: 'GET', url: `/documents/${doc.id}?rev=${doc._rev}` });
      expect(old.json()).toMatchObject({ title: 'doomed', content: 'bye' });

      const history = await t.call(key, { method: 'GET', url: `/documents/${doc.id}/revisions` });
      expect(history.json()).toEqual([
        { _rev: doc._rev, createdAt: expect.any(String) },
        { _rev: tombstone._rev, deleted: true, createdAt: expect.any(String) },
      ]);
      // The tombstone keeps nothing of the document (as CouchDB's DELETE writes it); the old revision still has it all.
      expect(await stored(doc.id)).toMatchObject({ deleted: 1, generation: 2, title: '', content: null });
      const list = (await t.call(key, { method: 'GET', url: '/documents?limit=1000' })).json();
      expect(list.map((d: { id: number }) => d.id)).not.toContain(doc.id);
    });

    it('answers with the tombstone revision in ETag, as every document response does', async () => {
      const doc = (await create({ title: 'etag on delete' })).json();
      const res = await t.call(key, { method: 'DELETE', url: `/documents/${doc.id}` });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body).toEqual({ id: doc.id, _rev: expect.stringMatching(/^2-[0-9a-f]{32}$/), deleted: true });
      expect(res.headers.etag).toBe(`"${body._rev}"`);
      expect(await stored(doc.id)).toMatchObject({ deleted: 1, generation: 2, rev: body._rev });
    });

    it('a stale _rev in the body is a 409 and deletes nothing; the current one deletes', async () => {
      const doc = (await create({ title: 'guarded' })).json();
      const v2 = (await t.call(key, { method: 'PATCH', url: `/documents/${doc.id}`, payload: { title: 'guarded v2' } })).json();
      const stale = await t.call(key, { method: 'DELETE', url: `/documents/${doc.id}`, payload: { _rev: doc._rev } });
      expect(stale.statusCode).toBe(409);
      expect(stale.json()).toEqual({ error: 'conflict', message: expect.stringContaining(`revision ${v2._rev}`) });
      expect(await stored(doc.id)).toMatchObject({ deleted: 0, generation: 2, rev: v2._rev, title: 'guarded v2' });
      expect(await revisions(doc.id)).toHaveLength(2);

      const ok = await t.call(key, { method: 'DELETE', url: `/documents/${doc.id}`, payload: { _rev: v2._rev } });
      expect(ok.statusCode).toBe(200);
      expect(ok.json()).toEqual({ id: doc.id, _rev: expect.stringMatching(/^3-/), deleted: true });
      expect(ok.headers.etag).toBe(`"${ok.json()._rev}"`);
      expect(await stored(doc.id)).toMatchObject({ deleted: 1, generation: 3, rev: ok.json()._rev });
    });

    it('an empty JSON body, or none, is a delete that names no revision', async () => {
      const doc = (await create({ title: 'empty body' })).json();
      const res = await t.call(key, { method: 'DELETE', url: `/documents/${doc.id}`, payload: {} });
      expect(res.statusCode).toBe(200);
      expect(await stored(doc.id)).toMatchObject({ deleted: 1, generation: 2 });
    });

    it.each([
      ['If-Match disagrees with the body _rev', 'other-if-match', { _rev: 'current' }, 'invalid_request', /disagree/],
      ['?rev= disagrees with the body _rev', 'other-query', { _rev: 'current' }, 'invalid_request', /disagree/],
      ['an unknown body field', undefined, { _rev: 'current', force: true }, 'validation_error', /Unknown field force/],
      ['a malformed _rev', undefined, { _rev: 'abc' }, 'validation_error', /_rev/],
      ['a body that is not an object', undefined, ['current'], 'validation_error', /body/],
    ] as const)('%s is a 400 and deletes nothing', async (_name, other, payload, error, message) => {
      const doc = (await create({ title: 'bad delete' })).json();
      const otherRev = '1-00000000000000000000000000000000';
      const body = JSON.parse(JSON.stringify(payload).replaceAll('"current"', JSON.stringify(doc._rev)));
      const res = await t.call(key, {
        method: 'DELETE',
        url: `/documents/${doc.id}${other === 'other-query' ? `?rev=${otherRev}` : ''}`,
        payload: body,
        headers: other === 'other-if-match' ? { 'if-match': `"${otherRev}"` } : {},
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error, message: expect.stringMatching(message) });
      expect(await stored(doc.id)).toMatchObject({ deleted: 0, generation: 1, rev: doc._rev });
      expect(await revisions(doc.id)).toHaveLength(1);
    });

    it('If-Match, ?rev= and the body _rev may all name the current revision', async () => {
      const doc = (await create({ title: 'all three' })).json();
      const res = await t.call(key, {
        method: 'DELETE',
        url: `/documents/${doc.id}?rev=${doc._rev}`,
        payload: { _rev: doc._rev },
        headers: { 'if-match': `"${doc._rev}"` },
      });
      expect(res.statusCode).toBe(200);
      expect(await stored(doc.id)).toMatchObject({ deleted: 1, generation: 2 });
    });
  });

  describe('If-Match on create', () => {
    it.each(['garbage', '*', '"1-00000000000000000000000000000000"'])('If-Match: %s on POST /documents is a 400 and stores nothing', async (ifMatch) => {
      const before = await countDocuments();
      const res = await t.call(key, { method: 'POST', url: '/documents', payload: { title: 'x' }, headers: { 'if-match': ifMatch } });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: 'invalid_request', message: 'A create replaces no revision: send no If-Match header.' });
      expect(res.headers.etag).toBeUndefined();
      expect(await countDocuments()).toBe(before);
    });
  });
});
