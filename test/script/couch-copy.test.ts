import { describe, expect, it } from 'vitest';
import { couchFixture, DIALECTS } from './helpers.js';

// COPY /{db}/{docid} with a Destination header, as CouchDB: a new document (or a new revision of an existing one,
// named with ?rev=) with the source's body and attachments.
describe.each(DIALECTS)('CouchDB COPY (%s)', (dialect) => {
  const f = couchFixture(dialect, 'copies');
  const { couch } = f;

  it('copies the winning revision with its attachments into a new document; the source is unchanged', async () => {
    const data = Buffer.from('attached bytes').toString('base64');
    const src = await couch('PUT', '/copies/src', { title: 'Plan', n: 1, _attachments: { 'a.txt': { content_type: 'text/plain', data } } });
    expect(src.statusCode).toBe(201);
    const copied = await couch('COPY', '/copies/src', undefined, { destination: 'dst%2Fone' });
    expect(copied.statusCode).toBe(201);
    expect(copied.json()).toMatchObject({ ok: true, id: 'dst/one', rev: expect.stringMatching(/^1-/) });
    expect(copied.headers.etag).toBe(`"${copied.json().rev}"`);
    const dst = (await couch('GET', '/copies/dst%2Fone')).json();
    expect(dst).toMatchObject({ _id: 'dst/one', title: 'Plan', n: 1, _attachments: { 'a.txt': { content_type: 'text/plain', length: 14, stub: true } } });
    expect((await couch('GET', '/copies/dst%2Fone/a.txt')).body).toBe('attached bytes');
    expect((await couch('GET', '/copies/src')).json()).toMatchObject({ _rev: src.json().rev, n: 1 });
  });

  it('copies an older revision with ?rev=, and over an existing document only with its current rev', async () => {
    const first = (await couch('PUT', '/copies/versions', { v: 1 })).json();
    await couch('PUT', '/copies/versions', { v: 2, _rev: first.rev });
    expect((await couch('COPY', `/copies/versions?rev=${first.rev}`, undefined, { destination: 'old-one' })).statusCode).toBe(201);
    expect((await couch('GET', '/copies/old-one')).json()).toMatchObject({ v: 1 });

    const target = (await couch('PUT', '/copies/target', { v: 'mine' })).json();
    const blind = await couch('COPY', '/copies/versions', undefined, { destination: 'target' });
    expect(blind.statusCode).toBe(409);
    expect(blind.json()).toEqual({ error: 'conflict', reason: expect.any(String) });
    const over = await couch('COPY', '/copies/versions', undefined, { destination: `target?rev=${target.rev}` });
    expect(over.statusCode).toBe(201);
    expect(over.json().rev).toMatch(/^2-/);
    expect((await couch('GET', '/copies/target')).json()).toMatchObject({ v: 2 });
  });

  it('copies into a _local document: the body only, created, or overwritten with its current rev', async () => {
    const source = (await couch('PUT', '/copies/to-local', { title: 'T', n: 7, _attachments: { 'a.txt': { content_type: 'text/plain', data: 'eA==' } } })).json();
    const made = await couch('COPY', '/copies/to-local', undefined, { destination: '_local/saved' });
    expect([made.statusCode, made.json()]).toEqual([201, { ok: true, id: '_local/saved', rev: '0-1' }]);
    expect((await couch('GET', '/copies/_local/saved')).json()).toEqual({ _id: '_local/saved', _rev: '0-1', title: 'T', n: 7 });
    expect((await couch('COPY', '/copies/to-local', undefined, { destination: '_local/saved' })).statusCode).toBe(409);
    expect((await couch('COPY', '/copies/to-local', undefined, { destination: '_local/saved?rev=0-9' })).statusCode).toBe(409);
    expect((await couch('COPY', '/copies/to-local', undefined, { destination: '_local/saved?rev=bad' })).statusCode).toBe(400);
    await couch('PUT', '/copies/to-local', { title: 'U', _rev: source.rev });
    const over = await couch('COPY', '/copies/to-local', undefined, { destination: '_local/saved?rev=0-1' });
    expect(over.json()).toEqual({ ok: true, id: '_local/saved', rev: '0-2' });
    expect((await couch('GET', '/copies/_local/saved')).json()).toEqual({ _id: '_local/saved', _rev: '0-2', title: 'U' });
    expect((await couch('COPY', '/copies/to-local', undefined, { destination: '_local/other' }, f.reader)).statusCode).toBe(403);
    expect((await couch('GET', '/copies/_local/other')).statusCode).toBe(404);
  });

  it('refuses what CouchDB refuses, changing nothing', async () => {
    expect((await couch('COPY', '/copies/src')).statusCode).toBe(400); // no Destination
    expect((await couch('COPY', '/copies/src', undefined, { destination: '_bad' })).statusCode).toBe(400);
    expect((await couch('COPY', '/copies/src', undefined, { destination: 'x?rev=nope' })).statusCode).toBe(400);
    expect((await couch('COPY', '/copies/missing', undefined, { destination: 'x' })).statusCode).toBe(404);
    expect((await couch('COPY', '/copies/src?rev=9-abc', undefined, { destination: 'x' })).statusCode).toBe(404);
    const denied = await couch('COPY', '/copies/src', undefined, { destination: 'x' }, f.reader);
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toMatchObject({ error: 'forbidden' });
    expect((await couch('GET', '/copies/x')).statusCode).toBe(404);
  });
});
