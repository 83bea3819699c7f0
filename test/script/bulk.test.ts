import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScriptTestApp, DIALECTS, type ScriptTestApp } from './helpers.js';

describe.each(DIALECTS)('Dreamscript bulk writes (%s)', (dialect) => {
  let t: ScriptTestApp;
  let key: string;
  beforeAll(async () => {
    t = await createScriptTestApp(dialect);
    key = await t.key();
  });
  afterAll(async () => t.close());

  const bulk = (docs: unknown[], secret = key) => t.call(secret, { method: 'POST', url: '/documents/_bulk', payload: { docs } });
  const count = async () =>
    Number((await t.db.selectFrom('script_documents').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  it('answers a method _bulk does not have with a 405 naming POST, though /documents/{id} has it, and stores nothing', async () => {
    const before = await count();
    for (const method of ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE'] as const) {
      const res = await t.call(key, { method, url: '/documents/_bulk', ...(method !== 'GET' && method !== 'HEAD' && { payload: { title: 'x' } }) });
      expect([res.statusCode, res.headers.allow], method).toEqual([405, 'POST']);
      if (method !== 'HEAD') {
        expect(res.json(), method).toEqual({ error: 'method_not_allowed', message: `${method} is not allowed on /dreamscript/documents/_bulk; allowed: POST.` });
      }
    }
    // As every 405, before the key is looked at; an ID that is no integer is still a 400 of /documents/{id}.
    expect((await t.app.inject({ method: 'PUT', url: '/dreamscript/documents/_bulk' })).statusCode).toBe(405);
    const notAnId = await t.call(key, { method: 'GET', url: '/documents/_other' });
    expect([notAnId.statusCode, notAnId.json().error]).toEqual([400, 'validation_error']);
    expect(await count()).toBe(before);
  });

  it('says which rule a bad item breaks, as the routes say it of a body', async () => {
    const before = await count();
    const docs = [
      { title: 'big', content: 'a'.repeat(1024 * 1024 + 1) },
      { title: 'x', content: 5 },
      { title: 'x', projectId: 'p' },
      { title: 'x', projectId: 0 },
    ];
    const res = await t.call(key, { method: 'POST', url: '/documents/_bulk', payload: { docs } });
    expect(res.json().results.map((r: { message: string }) => r.message)).toEqual([
      'docs[0].content must NOT have more than 1048576 characters.',
      'docs[1].content must be string or null.',
      'docs[2].projectId must be integer or null.',
      'docs[3].projectId must be >= 1.',
    ]);
    expect(await count()).toBe(before);
    // The same rules, the same words, for one document.
    const doc = (await t.call(key, { method: 'POST', url: '/documents', payload: { title: 'one' } })).json();
    const patch = async (payload: object) => (await t.call(key, { method: 'PATCH', url: `/documents/${doc.id}`, payload })).json();
    expect(await patch({ content: 5 })).toEqual({ error: 'validation_error', message: 'body.content must be string or null.' });
    expect(await patch({ projectId: 'p' })).toEqual({ error: 'validation_error', message: 'body.projectId must be integer or null.' });
  });

  it('creates many documents in one request, results in order', async () => {
    const docs = Array.from({ length: 1000 }, (_, i) => ({ title: `doc ${i}`, content: `body ${i}` }));
    const res = await bulk(docs);
    expect(res.statusCode).toBe(201);
    const { results } = res.json() as { results: { id: number; _rev: string }[] };
    expect(results).toHaveLength(1000);
    const ids = results.map((r) => r.id);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    const rows = await t.db.selectFrom('script_documents').select(['id', 'title', 'rev']).where('id', 'in', [ids[0], ids[999]]).orderBy('id').execute();
    expect(rows).toEqual([
      { id: ids[0], title: 'doc 0', rev: results[0]._rev },
      { id: ids[999], title: 'doc 999', rev: results[999]._rev },
    ]);
    const revisions = await t.db.selectFrom('script_revisions').select('document_id').where('document_id', 'in', ids).execute();
    expect(revisions).toHaveLength(1000);
  });

  it('applies each item on its own: partial failures come back per item, the rest is stored', async () => {
    const project = (await t.call(key, { method: 'POST', url: '/projects', payload: { name: 'bulk' } })).json().id;
    const existing = (await t.call(key, { method: 'POST', url: '/documents', payload: { title: 'existing' } })).json();
    const doomed = (await t.call(key, { method: 'POST', url: '/documents', payload: { title: 'doomed' } })).json();
    const stale = (await t.call(key, { method: 'POST', url: '/documents', payload: { title: 'stale' } })).json();
    await t.call(key, { method: 'PUT', url: `/documents/${stale.id}`, payload: { title: 'moved on' } });

    const res = await bulk([
      { title: 'new one', projectId: project },
      { id: existing.id, _rev: existing._rev, title: 'updated', content: 'c' },
      { id: 99999999, title: 'missing' },
      { title: '' },
      { id: doomed.id, _deleted: true },
      { id: stale.id, _rev: stale._rev, title: 'too late' },
      { title: 'x', projectId: 424242 },
      { title: 'x', extra: true },
      { id: existing.id, title: 'no revision given' },
      { _rev: existing._rev, title: 'rev without id' },
      { id: existing.id },
    ]);
    expect(res.statusCode).toBe(201);
    const { results } = res.json();
    expect(results).toEqual([
      { id: expect.any(Number), _rev: expect.stringMatching(/^1-/) },
      { id: existing.id, _rev: expect.stringMatching(/^2-/) },
      { id: 99999999, error: 'not_found', message: 'Document 99999999 was not found.' },
      { error: 'validation_error', message: expect.stringMatching(/^docs\[3\]\.title/) },
      { id: doomed.id, _rev: expect.stringMatching(/^2-/) },
      { id: stale.id, error: 'conflict', message: expect.any(String) },
      { error: 'invalid_request', message: 'Project 424242 does not exist.' },
      { error: 'validation_error', message: 'Unknown field extra in docs[7].' },
      { id: existing.id, _rev: expect.stringMatching(/^3-/) },
      { error: 'validation_error', message: expect.stringMatching(/_rev/) },
      { id: existing.id, error: 'validation_error', message: expect.stringMatching(/title is required/) },
    ]);

    const created = await t.call(key, { method: 'GET', url: `/documents/${results[0].id}` });
    expect(created.json()).toMatchObject({ title: 'new one', projectId: project });
    const updated = await t.call(key, { method: 'GET', url: `/documents/${existing.id}` });
    expect(updated.json()).toMatchObject({ title: 'no revision given', _rev: results[8]._rev });
    expect(updated.json()).not.toHaveProperty('content');
    expect((await t.call(key, { method: 'GET', url: `/documents/${doomed.id}` })).statusCode).toBe(404);
    expect((await t.call(key, { method: 'GET', url: `/documents/${stale.id}` })).json().title).toBe('moved on');
    const history = await t.call(key, { method: 'GET', url: `/documents/${existing.id}/revisions` });
    expect(history.json()).toHaveLength(3);
  });

  it.each(['garbage', '*', '"1-00000000000000000000000000000000"'])('If-Match: %s on the request is a 400 and stores nothing (items name revisions with _rev)', async (ifMatch) => {
    const target = (await bulk([{ title: 'target' }])).json().results[0];
    const before = await count();
    const res = await t.call(key, {
      method: 'POST',
      url: '/documents/_bulk',
      payload: { docs: [{ title: 'new' }, { id: target.id, title: 'changed' }] },
      headers: { 'if-match': ifMatch },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_request', message: 'A bulk request names revisions per item, with _rev: send no If-Match header.' });
    expect(await count()).toBe(before);
    expect(await t.db.selectFrom('script_documents').select(['title', 'rev']).where('id', '=', target.id).executeTakeFirst()).toEqual({ title: 'target', rev: target._rev });
  });

  it('respects key scopes per item', async () => {
    const mine = (await t.call(key, { method: 'POST', url: '/projects', payload: { name: 'mine' } })).json().id;
    const other = (await t.call(key, { method: 'POST', url: '/documents', payload: { title: 'other' } })).json();
    const scoped = await t.key({ projects: [mine] });
    const { results } = (await bulk([{ title: 'in', projectId: mine }, { title: 'out' }, { id: other.id, title: 'steal', projectId: mine }], scoped)).json();
    expect(results[0]).toEqual({ id: expect.any(Number), _rev: expect.any(String) });
    expect(results[1]).toMatchObject({ error: 'forbidden' });
    expect(results[2]).toMatchObject({ id: other.id, error: 'forbidden' });
    expect((await t.call(key, { method: 'GET', url: `/documents/${other.id}` })).json().title).toBe('other');
  });

  it('refuses more than 1,000 documents, an empty list, and a malformed envelope, storing nothing', async () => {
    const before = await count();
    const tooMany = await bulk(Array.from({ length: 1001 }, () => ({ title: 'x' })));
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().message).toMatch(/docs/);
    expect((await bulk([])).statusCode).toBe(400);
    expect((await bulk(['title'])).statusCode).toBe(400);
    expect((await t.call(key, { method: 'POST', url: '/documents/_bulk', payload: { documents: [] } })).statusCode).toBe(400);
    expect(await count()).toBe(before);
  });
});
