import { describe, expect, it } from 'vitest';
import { couchFixture, DIALECTS } from './helpers.js';

// A CouchDB database's update_seq never goes back, even when its newest document leaves it.
describe.each(DIALECTS)('CouchDB update_seq (%s)', (dialect) => {
  const f = couchFixture(dialect, 'seqs');
  const { couch } = f;
  const updateSeq = async () => Number((await couch('GET', '/seqs')).json().update_seq);
  const sinceNow = async () => Number((await couch('GET', '/seqs/_changes?since=now')).json().last_seq);

  it('stays when the newest document moves to another project or is purged, and since=now with it', async () => {
    await couch('PUT', '/seqs/first', { v: 1 });
    const moved = (await couch('PUT', '/seqs/moved', { title: 'moving', v: 1 })).json();
    const { id } = (await f.t.db.selectFrom('script_documents').select('id').where('couch_id', '=', 'moved').executeTakeFirst())!;
    const before = await updateSeq();

    const other = (await f.t.call(f.key, { method: 'POST', url: '/projects', payload: { name: 'elsewhere' } })).json();
    const move = await f.t.call(f.key, { method: 'PATCH', url: `/documents/${id}`, payload: { projectId: other.id } });
    expect(move.statusCode).toBe(200);
    expect((await couch('GET', '/seqs/moved')).statusCode).toBe(404);
    const afterMove = await updateSeq();
    expect(afterMove).toBeGreaterThan(before); // the move is a change this database saw
    expect(await sinceNow()).toBe(afterMove);

    const last = (await couch('PUT', '/seqs/last', { v: 1 })).json();
    const beforePurge = await updateSeq();
    expect((await couch('POST', '/seqs/_purge', { last: [last.rev] })).statusCode).toBe(201);
    expect(await updateSeq()).toBe(beforePurge);
    expect(await sinceNow()).toBe(beforePurge);
    expect(moved.ok).toBe(true);
  });
});
