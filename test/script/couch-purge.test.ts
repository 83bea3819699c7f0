import { describe, expect, it } from 'vitest';
import { couchFixture, DIALECTS } from './helpers.js';

// POST /{db}/_purge, as CouchDB 3: leaf revisions go for good with the ancestors no other leaf shares; a document
// left with no leaf is gone from both APIs.
describe.each(DIALECTS)('CouchDB _purge (%s)', (dialect) => {
  const f = couchFixture(dialect, 'purges');
  const { couch } = f;
  const hex = (c: string) => c.repeat(32);
  const rowOf = (couchId: string) => f.t.db.selectFrom('script_documents').select(['id', 'rev', 'branches', 'deleted']).where('couch_id', '=', couchId).executeTakeFirst();
  const revisionsOf = async (id: number) => (await f.t.db.selectFrom('script_revisions').select('rev').where('document_id', '=', id).execute()).map((r) => r.rev).sort();

  it('purges the only leaf: the document, its history and its attachment references are gone from both APIs', async () => {
    const first = (await couch('PUT', '/purges/gone', { v: 1, _attachments: { 'a.txt': { content_type: 'text/plain', data: Buffer.from('x').toString('base64') } } })).json();
    const second = (await couch('PUT', '/purges/gone', { v: 2, _rev: first.rev, _attachments: { 'a.txt': { stub: true } } })).json();
    const { id } = (await rowOf('gone'))!;
    expect((await f.t.call(f.key, { method: 'GET', url: `/documents/${id}` })).statusCode).toBe(200);

    // Another server process on the same database has the counts cached: the purge must show there too.
    const peer = await f.t.peer();
    const infoAt = async (app: typeof peer) => (await app.inject({ method: 'GET', url: '/dreamscript/couch/purges', headers: { 'x-api-key': f.key } })).json();
    const before = await infoAt(peer);
    expect(before).toMatchObject({ doc_count: 1 });
    // A later document holds the newest seq, so the purge moves no database's newest last_seq.
    await couch('PUT', '/purges/later', { v: 1 });
    const cached = await infoAt(peer);

    const res = await couch('POST', '/purges/_purge', { gone: [second.rev] });
    expect([res.statusCode, res.json()]).toEqual([201, { purge_seq: null, purged: { gone: [second.rev] } }]);
    const after = await infoAt(peer);
    expect([after.doc_count, after.purge_seq]).toEqual([cached.doc_count - 1, String(Number(cached.purge_seq) + 1)]);
    expect((await couch('GET', '/purges')).json()).toMatchObject({ doc_count: after.doc_count, purge_seq: after.purge_seq });
    expect((await couch('GET', '/purges/gone')).statusCode).toBe(404);
    expect((await couch('GET', `/purges/gone?rev=${first.rev}`)).statusCode).toBe(404);
    expect((await f.t.call(f.key, { method: 'GET', url: `/documents/${id}` })).statusCode).toBe(404);
    expect((await couch('GET', '/purges/_all_docs')).json().rows.map((r: { id: string }) => r.id)).not.toContain('gone');
    expect((await couch('GET', '/purges/_changes')).json().results.map((r: { id: string }) => r.id)).not.toContain('gone');
    expect(await rowOf('gone')).toBeUndefined();
    expect(await revisionsOf(id)).toEqual([]);
    expect(await f.t.db.selectFrom('script_attachment_refs').select('sha256').where('document_id', '=', id).execute()).toEqual([]);
    // The _id is free: a new document starts a new history.
    expect((await couch('PUT', '/purges/gone', { v: 3 })).json().rev).toMatch(/^1-/);
  });

  it('purges a losing branch: the winner stays, its conflict and the branch\'s own ancestors go, the shared root stays', async () => {
    const [root, a, b, b2] = [`1-${hex('r')}`, `2-${hex('a')}`, `2-${hex('b')}`, `3-${hex('c')}`];
    await couch('POST', '/purges/_bulk_docs', {
      new_edits: false,
      docs: [
        { _id: 'forked', _rev: b2, v: 'b2', _revisions: { start: 3, ids: [hex('c'), hex('b'), hex('r')] } },
        { _id: 'forked', _rev: a, v: 'a', _revisions: { start: 2, ids: [hex('a'), hex('r')] } },
      ],
    });
    expect((await couch('GET', '/purges/forked?conflicts=true')).json()).toMatchObject({ _rev: b2, _conflicts: [a] });
    const { id } = (await rowOf('forked'))!;

    // A revision that is no leaf, or unknown, purges nothing.
    const none = await couch('POST', '/purges/_purge', { forked: [b, root, `9-${hex('f')}`], nowhere: [a] });
    expect(none.json()).toEqual({ purge_seq: null, purged: { forked: [], nowhere: [] } });

    expect((await couch('POST', '/purges/_purge', { forked: [a] })).json().purged).toEqual({ forked: [a] });
    const doc = (await couch('GET', '/purges/forked?conflicts=true')).json();
    expect(doc).toEqual({ _id: 'forked', _rev: b2, v: 'b2' });
    expect(await revisionsOf(id)).toEqual([root, b, b2].sort());
    expect(await rowOf('forked')).toMatchObject({ rev: b2, branches: 0 });
  });

  it('purges the winning leaf: the other branch wins, in both APIs', async () => {
    const [x, y] = [`1-${hex('x')}`, `1-${hex('y')}`];
    await couch('POST', '/purges/_bulk_docs', { new_edits: false, docs: [{ _id: 'winner', _rev: x, title: 'x' }, { _id: 'winner', _rev: y, title: 'y' }] });
    expect((await couch('GET', '/purges/winner')).json()._rev).toBe(y);
    expect((await couch('POST', '/purges/_purge', { winner: [y] })).json().purged).toEqual({ winner: [y] });
    expect((await couch('GET', '/purges/winner?conflicts=true')).json()).toEqual({ _id: 'winner', _rev: x, title: 'x' });
    const { id } = (await rowOf('winner'))!;
    expect((await f.t.call(f.key, { method: 'GET', url: `/documents/${id}` })).json()).toMatchObject({ _rev: x, title: 'x' });
    expect(await rowOf('winner')).toMatchObject({ rev: x, branches: 0, deleted: 0 });
  });

  it('never hands out again the seq or the ID of a purged or deleted newest document (SQLite numbers from max + 1)', async () => {
    const feedIds = async (since: string) => (await couch('GET', `/purges/_changes?since=${since}`)).json().results.map((r: { id: string }) => r.id);
    const newest = (await couch('PUT', '/purges/newest', { v: 1 })).json();
    const { id: newestId } = (await rowOf('newest'))!;
    const checkpoint = (await couch('GET', '/purges/_changes?since=now')).json().last_seq;
    await couch('POST', '/purges/_purge', { newest: [newest.rev] });
    const after = (await couch('PUT', '/purges/after-purge', { v: 2 })).json();
    expect(after.ok).toBe(true);
    // A client that had pulled up to the purged change still gets the next one, and the ID is a new one.
    expect(await feedIds(checkpoint)).toEqual(['after-purge']);
    expect(Number((await rowOf('after-purge'))!.id)).toBeGreaterThan(Number(newestId));

    // A database delete takes its newest rows too.
    expect((await couch('PUT', '/doomed')).statusCode).toBe(201);
    await couch('PUT', '/doomed/last', { v: 3 });
    const { id: lastId } = (await rowOf('last'))!;
    const before = (await couch('GET', '/purges/_changes?since=now')).json().last_seq;
    expect((await couch('DELETE', '/doomed')).statusCode).toBe(200);
    await couch('PUT', '/purges/after-delete', { v: 4 });
    expect(await feedIds(before)).toEqual(['after-delete']);
    expect(Number((await rowOf('after-delete'))!.id)).toBeGreaterThan(Number(lastId));
    const rest = (await f.t.call(f.key, { method: 'POST', url: '/documents', payload: { title: 'rest' } })).json();
    expect(rest.id).toBeGreaterThan(Number((await rowOf('after-delete'))!.id));
  });

  it('refuses bad requests with CouchDB\'s 400 and a read-only key with 403, purging nothing', async () => {
    const kept = (await couch('PUT', '/purges/kept', { v: 1 })).json();
    const refused: [unknown, number, string][] = [
      [{ kept: kept.rev }, 400, 'bad_request'],
      [{ kept: ['abc'] }, 400, 'bad_request'],
      [[kept.rev], 400, 'bad_request'],
      [Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`d${i}`, [kept.rev]])), 400, 'bad_request'],
      [{ kept: Array.from({ length: 1001 }, (_, i) => `${i + 1}-${hex('a')}`) }, 400, 'bad_request'],
    ];
    for (const [body, status, error] of refused) {
      const res = await couch('POST', '/purges/_purge', body);
      expect([res.statusCode, res.json().error], JSON.stringify(body).slice(0, 60)).toEqual([status, error]);
    }
    const readOnly = await couch('POST', '/purges/_purge', { kept: [kept.rev] }, undefined, f.reader);
    expect([readOnly.statusCode, readOnly.json().error]).toEqual([403, 'forbidden']);
    expect((await couch('GET', '/purges/kept')).json()._rev).toBe(kept.rev);
    expect((await couch('GET', '/purges/_purge')).statusCode).toBe(405);
  });
});
