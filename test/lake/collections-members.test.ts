import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LakeDb } from '../../src/lake/db.js';
import { createTestApp, DIALECTS, type TestApp } from '../helpers/app.js';
import { memberIds } from '../helpers/members.js';

type Headers = Record<string, string>;

describe.each(DIALECTS)('DreamLake collection members (%s)', (dialect) => {
  let t: TestApp;
  let alice: Headers;
  const base = '/namespaces/alice/projects/lab/collections';
  let n = 0;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    alice = await t.auth('alice');
    await t.inject({ method: 'POST', url: '/namespaces/alice/projects', headers: alice, payload: { name: 'Lab' } });
  });
  afterAll(async () => t.close());

  const ids = (count: number) => memberIds(t, alice, 'alice', 'lab', count);
  const send = (method: 'POST' | 'DELETE', name: string, payload: unknown, extra: Headers = {}) =>
    t.inject({ method, url: `${base}/${name}/members`, headers: { ...alice, ...extra }, payload: payload as object });
  const read = async (name: string) => (await t.inject({ method: 'GET', url: `${base}/${name}`, headers: alice })).json();
  /** A fresh collection holding `members`. */
  const collection = async (members: string[] = []) => {
    const name = `c${++n}`;
    const res = await t.inject({ method: 'POST', url: base, headers: alice, payload: { name, members } });
    expect(res.statusCode).toBe(201);
    return name;
  };

  it('POST merges and de-duplicates: {members, added, total}, appended in the order given', async () => {
    const m = await ids(4);
    const name = await collection([m[0], m[1]]);
    const before = await read(name);
    const res = await send('POST', name, { add: [m[3], m[1], m[2], m[3]] });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ members: [m[0], m[1], m[3], m[2]], added: 2, total: 4 });
    expect(res.headers['preference-applied']).toBeUndefined();
    const after = await read(name);
    expect(after.members).toEqual([m[0], m[1], m[3], m[2]]);
    expect(after.updatedAt >= before.updatedAt).toBe(true);
    const again = await send('POST', name, { add: [m[0]] });
    expect(again.json()).toEqual({ members: [m[0], m[1], m[3], m[2]], added: 0, total: 4 });
  });

  it('DELETE removes: {members, removed, total}; IDs that are not members are ignored', async () => {
    const m = await ids(5);
    const name = await collection(m.slice(0, 4));
    const res = await send('DELETE', name, { remove: [m[1], m[4], m[1], m[3]] });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ members: [m[0], m[2]], removed: 2, total: 2 });
    expect((await read(name)).members).toEqual([m[0], m[2]]);
    expect((await send('DELETE', name, { remove: [m[4]] })).json()).toEqual({ members: [m[0], m[2]], removed: 0, total: 2 });
    // a removed member that comes back goes to the end
    expect((await send('POST', name, { add: [m[1]] })).json()).toEqual({ members: [m[0], m[2], m[1]], added: 1, total: 3 });
  });

  it('Prefer: return=minimal leaves out the member list and says so', async () => {
    const m = await ids(3);
    const name = await collection([m[0]]);
    const add = await send('POST', name, { add: [m[1], m[2]] }, { prefer: 'return=minimal' });
    expect(add.statusCode).toBe(200);
    expect(add.json()).toEqual({ added: 2, total: 3 });
    expect(add.headers['preference-applied']).toBe('return=minimal');
    const del = await send('DELETE', name, { remove: [m[0]] }, { prefer: 'respond-async, return=minimal' });
    expect(del.json()).toEqual({ removed: 1, total: 2 });
    const full = await send('DELETE', name, { remove: [m[1]] }, { prefer: 'return=representation' });
    expect(full.json()).toEqual({ members: [m[2]], removed: 1, total: 1 });
    expect((await read(name)).members).toEqual([m[2]]);
  });

  it('answers 400 listing the member IDs that are not valid, and changes nothing', async () => {
    const m = await ids(2);
    const name = await collection([m[0]]);
    const bad = ['', 'y'.repeat(129)];
    const res = await send('POST', name, { add: [m[1], ...bad] });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('invalid_members');
    expect(res.json().message).toContain('""');
    expect(res.json().message).toContain('yyyy');
    expect((await read(name)).members).toEqual([m[0]]);
    expect((await send('POST', name, { add: [m[1]] }, { prefer: 'return=minimal' })).json()).toEqual({ added: 1, total: 2 });
  });

  it('names the first 50 offending IDs and counts the rest', async () => {
    const name = await collection();
    const res = await send('POST', name, { add: Array.from({ length: 60 }, () => '') });
    expect(res.statusCode).toBe(400);
    // de-duplicated first: one empty ID
    expect(res.json().message).toMatch(/: ""\.$/);
    const many = Array.from({ length: 60 }, (_, i) => `${'z'.repeat(128)}${i}`);
    expect((await send('POST', name, { add: many })).json().message).toMatch(/and 10 more\.$/);
  });

  it.each([
    ['POST', {}],
    ['POST', { add: [] }],
    ['POST', { add: 'node' }],
    ['POST', { add: null }],
    ['POST', { add: [1] }],
    ['POST', { add: [['a']] }],
    ['POST', { add: ['a'], remove: ['b'] }],
    ['POST', { remove: ['a'] }],
    ['DELETE', {}],
    ['DELETE', { remove: [] }],
    ['DELETE', { remove: 'node' }],
    ['DELETE', { remove: [1] }],
    ['DELETE', { remove: [''] }],
    ['DELETE', { remove: ['x'.repeat(129)] }],
    ['DELETE', { add: ['a'] }],
  ] as const)('%s …/members rejects %j with 400', async (method, body) => {
    const m = await ids(1);
    const name = await collection(m);
    const res = await send(method, name, body);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('validation_error');
    expect((await read(name)).members).toEqual(m);
  });

  it('rejects a missing body and malformed JSON with 400', async () => {
    const name = await collection();
    const none = await t.inject({ method: 'POST', url: `${base}/${name}/members`, headers: alice });
    expect(none.statusCode).toBe(400);
    const broken = await t.inject({ method: 'POST', url: `${base}/${name}/members`, headers: { ...alice, 'content-type': 'application/json' }, payload: '{"add":[' });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().error).toBe('invalid_json');
  });

  it('answers 404 for a collection, project or namespace that does not exist', async () => {
    for (const url of [`${base}/nope/members`, '/namespaces/alice/projects/nope/collections/c1/members', '/namespaces/nope/projects/lab/collections/c1/members']) {
      expect((await t.inject({ method: 'POST', url, headers: alice, payload: { add: ['a'] } })).statusCode).toBe(404);
      expect((await t.inject({ method: 'DELETE', url, headers: alice, payload: { remove: ['a'] } })).statusCode).toBe(404);
    }
  });

  it('keeps order and totals across batches, removals and a full replace', async () => {
    const m = await ids(300);
    const name = await collection();
    for (let i = 0; i < 3; i++) {
      const res = await send('POST', name, { add: m.slice(i * 100, i * 100 + 100) }, { prefer: 'return=minimal' });
      expect(res.json()).toEqual({ added: 100, total: (i + 1) * 100 });
    }
    const removed = m.filter((_, i) => i % 3 === 0);
    expect((await send('DELETE', name, { remove: removed }, { prefer: 'return=minimal' })).json()).toEqual({ removed: 100, total: 200 });
    const kept = m.filter((_, i) => i % 3 !== 0);
    expect((await read(name)).members).toEqual(kept);
    await t.inject({ method: 'PATCH', url: `${base}/${name}`, headers: alice, payload: { members: m.slice(0, 10) } });
    expect((await send('POST', name, { add: m.slice(5, 15) }, { prefer: 'return=minimal' })).json()).toEqual({ added: 5, total: 15 });
    expect((await read(name)).members).toEqual(m.slice(0, 15));
  });

  it('a deleted file leaves every collection, totals follow, and it cannot be added again', async () => {
    const m = await ids(3);
    const one = await collection(m);
    const two = await collection([m[1]]);
    const del = await t.inject({ method: 'DELETE', url: `/namespaces/alice/projects/lab/nodes/${m[1]}`, headers: alice });
    expect(del.statusCode).toBe(200);
    expect((await read(one)).members).toEqual([m[0], m[2]]);
    expect((await read(two)).members).toEqual([]);
    expect((await send('POST', one, { add: [m[0]] }, { prefer: 'return=minimal' })).json()).toEqual({ added: 0, total: 2 });
    expect((await send('DELETE', two, { remove: [m[1]] }, { prefer: 'return=minimal' })).json()).toEqual({ removed: 0, total: 0 });
    const again = await send('POST', two, { add: [m[1]] });
    expect(again.statusCode).toBe(400);
    expect(again.json().message).toContain(m[1]);
  });

  it('concurrent appends lose nothing and count right', async () => {
    const m = await ids(50);
    const name = await collection();
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) => send('POST', name, { add: m.slice(i * 10, i * 10 + 10) }, { prefer: 'return=minimal' })),
    );
    expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200]);
    expect(results.map((r) => r.json().total).sort((a, b) => a - b)).toEqual([10, 20, 30, 40, 50]);
    const members: string[] = (await read(name)).members;
    expect([...members].sort()).toEqual([...m].sort());
    // each batch stays contiguous and in its own order
    for (let i = 0; i < 5; i++) {
      const batch = m.slice(i * 10, i * 10 + 10);
      const start = members.indexOf(batch[0]);
      expect(members.slice(start, start + 10)).toEqual(batch);
    }
  });
});

// Whoever deletes member rows (the node tree removes deleted nodes from every collection) keeps the count
// the member routes answer with: triggers from migration 005, checked here straight on the database.
describe.each(DIALECTS)('collection member_count triggers (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(async () => t.close());

  it('counts inserts (skipping conflicts) and deletes, per collection', async () => {
    const db = t.database.db as LakeDb;
    const now = new Date().toISOString();
    await db.insertInto('namespaces').values({ id: 'n', slug: 'n', name: 'n', kind: 'org', metadata: null, created_at: now, updated_at: now, deleted_at: null }).execute();
    await db.insertInto('projects').values({ id: 'p', namespace_id: 'n', name: 'p', slug: 'p', description: null, tags: '[]', metadata: null, created_at: now, updated_at: now, deleted_at: null }).execute();
    for (const id of ['a', 'b']) {
      await db.insertInto('collections').values({ id, project_id: 'p', dataset_id: null, name: id, description: null, tags: '[]', metadata: null, next_position: 0, created_at: now, updated_at: now, deleted_at: null }).execute();
    }
    const count = async (id: string) =>
      Number((await db.selectFrom('collections').select(sql<number>`member_count`.as('c')).where('id', '=', id).executeTakeFirstOrThrow()).c);
    const rows = (c: string, nodes: string[]) => nodes.map((node_id, position) => ({ collection_id: c, node_id, position }));
    await db.insertInto('collection_members').values([...rows('a', ['x', 'y', 'z']), ...rows('b', ['x'])]).execute();
    await db.insertInto('collection_members').values(rows('a', ['x', 'w'])).onConflict((oc) => oc.doNothing()).execute();
    expect([await count('a'), await count('b')]).toEqual([4, 1]);
    await db.deleteFrom('collection_members').where('node_id', '=', 'x').execute();
    expect([await count('a'), await count('b')]).toEqual([3, 0]);
  });
});
