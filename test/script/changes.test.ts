import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey, revokeKey } from '../../src/script/keys/repo.js';
import { BASE, createScriptTestApp, DIALECTS, type ScriptTestApp } from './helpers.js';

interface Changes {
  results: { seq: number; id: number; _rev: string; deleted?: boolean }[];
  last_seq: number;
}

describe.each(DIALECTS)('Dreamscript changes feed (%s)', (dialect) => {
  let t: ScriptTestApp;
  let key: string;
  beforeAll(async () => {
    t = await createScriptTestApp(dialect);
    key = await t.key();
  });
  afterAll(async () => t.close());

  const changes = async (query: string, secret = key) => {
    const res = await t.call(secret, { method: 'GET', url: `/changes${query}` });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as Changes;
  };
  const create = async (payload: object) => (await t.call(key, { method: 'POST', url: '/documents', payload })).json();
  // Lets a longpoll reach its wait before the write (it returns the same answer either way).
  const settle = () => sleep(150);

  it('lists each changed document once, at its latest revision, with deletions flagged', async () => {
    const start = (await changes('?since=now')).last_seq;
    const a = await create({ title: 'a' });
    const b = await create({ title: 'b' });
    const a2 = (await t.call(key, { method: 'PUT', url: `/documents/${a.id}`, payload: { title: 'a2' } })).json();
    const gone = (await t.call(key, { method: 'DELETE', url: `/documents/${b.id}` })).json();

    const feed = await changes(`?since=${start}`);
    expect(feed.results.map(({ id, _rev, deleted }) => ({ id, _rev, deleted }))).toEqual([
      { id: a.id, _rev: a2._rev, deleted: undefined },
      { id: b.id, _rev: gone._rev, deleted: true },
    ]);
    expect(feed.results[0].seq).toBeLessThan(feed.results[1].seq);
    expect(feed.last_seq).toBe(feed.results[1].seq);
    expect(await changes(`?since=${feed.last_seq}`)).toEqual({ results: [], last_seq: feed.last_seq });
  });

  it('pages with limit and last_seq', async () => {
    const start = (await changes('?since=now')).last_seq;
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await create({ title: `p${i}` })).id);
    const first = await changes(`?since=${start}&limit=3`);
    const second = await changes(`?since=${first.last_seq}&limit=3`);
    expect([...first.results, ...second.results].map((r) => r.id)).toEqual(ids);
  });

  it('a normal feed answers at once, even when empty', async () => {
    const now = (await changes('?since=now')).last_seq;
    expect(await changes(`?since=${now}&feed=normal`)).toEqual({ results: [], last_seq: now });
  });

  it('longpoll answers at once when changes are waiting', async () => {
    const start = (await changes('?since=now')).last_seq;
    const doc = await create({ title: 'waiting' });
    const feed = await changes(`?since=${start}&feed=longpoll`);
    expect(feed.results.map((r) => r.id)).toEqual([doc.id]);
  });

  it('longpoll waits for the next change and wakes up for it', async () => {
    const since = (await changes('?since=now')).last_seq;
    const pending = changes(`?since=${since}&feed=longpoll&timeout=60000`);
    await settle();
    const doc = await create({ title: 'wake up' });
    const feed = await pending;
    expect(feed.results.map((r) => r.id)).toEqual([doc.id]);
  });

  it('a key revoked while its longpoll or live CouchDB feed waits sees no later change (401, or the feed ends)', async () => {
    const { key: doomed, secret } = await createKey(t.db, { name: 'doomed' });
    const since = (await changes('?since=now')).last_seq;
    const longpoll = t.call(secret, { method: 'GET', url: `/changes?since=${since}&feed=longpoll&timeout=60000` });
    expect((await t.call(key, { method: 'PUT', url: '/couch/revoked' })).statusCode).toBe(201);
    const feedSince = (await t.call(key, { method: 'GET', url: '/couch/revoked' })).json().update_seq;
    const live = t.call(secret, { method: 'GET', url: `/couch/revoked/_changes?feed=continuous&since=${feedSince}&timeout=30000` });
    await settle();
    expect(await revokeKey(t.db, doomed.id)).toBe(true);
    const secretDoc = await create({ title: 'after the revocation' });
    expect((await t.call(key, { method: 'PUT', url: '/couch/revoked/after', payload: { secret: true } })).statusCode).toBe(201);
    const answered = await longpoll;
    expect([answered.statusCode, answered.json().error]).toEqual([401, 'unauthorized']);
    const streamed = await live;
    expect(streamed.body).not.toContain('"after"');
    expect(streamed.body).not.toContain(String(secretDoc.id));
    expect(streamed.body.trim().split('\n').pop()).toMatch(/^\{"last_seq":/);
  });

  it('longpoll gives up after its timeout with no results', async () => {
    const since = (await changes('?since=now')).last_seq;
    expect(await changes(`?since=${since}&feed=longpoll&timeout=50`)).toEqual({ results: [], last_seq: since });
  });

  it('waiting longpolls hold no database connection', async () => {
    // More waiters than the pool has connections (5): if each pinned one, the write below would starve.
    const since = (await changes('?since=now')).last_seq;
    const waiting = Array.from({ length: 12 }, () => changes(`?since=${since}&feed=longpoll&timeout=60000`));
    await settle();
    const doc = await create({ title: 'still writable' });
    expect(doc.id).toEqual(expect.any(Number));
    expect((await t.call(key, { method: 'GET', url: `/documents/${doc.id}` })).statusCode).toBe(200);
    for (const feed of await Promise.all(waiting)) expect(feed.results.map((r) => r.id)).toEqual([doc.id]);
  });

  it('shows a project-scoped key only its projects’ changes', async () => {
    const project = (await t.call(key, { method: 'POST', url: '/projects', payload: { name: 'feed' } })).json().id;
    const scoped = await t.key({ projects: [project] });
    const since = (await changes('?since=now')).last_seq;
    await create({ title: 'hidden' });
    const visible = await create({ title: 'visible', projectId: project });
    expect((await changes(`?since=${since}`, scoped)).results.map((r) => r.id)).toEqual([visible.id]);

    // A scoped longpoll is not woken into an answer by changes it may not see.
    const now = (await changes('?since=now')).last_seq;
    const pending = changes(`?since=${now}&feed=longpoll&timeout=60000`, scoped);
    await settle();
    await create({ title: 'hidden again' });
    const mine = await create({ title: 'mine again', projectId: project });
    expect((await pending).results.map((r) => r.id)).toEqual([mine.id]);
  });

  it.each([
    ['since=abc', /since/],
    ['since=-1', /since/],
    // The message names the rule, not only the field (Ajv's own words were "must be equal to constant").
    ['feed=continuous', /^querystring\.feed must be one of: normal, longpoll\.$/],
    ['timeout=60001', /timeout/],
    ['timeout=soon', /timeout/],
    ['limit=0', /limit/],
    ['style=all_docs', /style/],
  ])('%s is a 400', async (query, message) => {
    const res = await t.call(key, { method: 'GET', url: `/changes?${query}` });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(message);
  });

  it('a shutting-down server ends its longpolls at once, empty', async () => {
    const peer = await t.peer();
    const since = (await changes('?since=now')).last_seq;
    const pending = peer.inject({ method: 'GET', url: `${BASE}/changes?since=${since}&feed=longpoll&timeout=60000`, headers: { 'x-api-key': key } });
    await settle();
    await peer.close();
    const res = await pending;
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ results: [], last_seq: since });
  });
});

describe.each(DIALECTS.filter((d) => d === 'postgres'))('Dreamscript changes across server processes (%s)', (dialect) => {
  let t: ScriptTestApp;
  beforeAll(async () => {
    t = await createScriptTestApp(dialect);
  });
  afterAll(async () => t.close());

  it('a longpoll wakes up for a change written by another server process on the same database', async () => {
    const key = await t.key();
    const peer = await t.peer();
    const since = (await t.call(key, { method: 'GET', url: '/changes?since=now' })).json().last_seq;
    const pending = t.call(key, { method: 'GET', url: `/changes?since=${since}&feed=longpoll&timeout=60000` });
    await sleep(150);
    const written = await peer.inject({ method: 'POST', url: `${BASE}/documents`, payload: { title: 'from the peer' }, headers: { 'x-api-key': key } });
    expect(written.statusCode).toBe(201);
    const feed = (await pending).json();
    expect(feed.results.map((r: { id: number }) => r.id)).toEqual([written.json().id]);
  });
});
