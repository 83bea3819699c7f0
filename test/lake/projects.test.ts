import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DIALECTS, type TestApp } from '../helpers/app.js';

describe.each(DIALECTS)('DreamLake projects and spaces (%s)', (dialect) => {
  let t: TestApp;
  let alice: Record<string, string>;
  let bob: Record<string, string>;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    alice = await t.auth('alice');
    bob = await t.auth('bob');
  });
  afterAll(async () => t.close());

  const create = (body: unknown, headers = alice, alias = 'projects', ns = 'alice') =>
    t.inject({ method: 'POST', url: `/namespaces/${ns}/${alias}`, headers, payload: body as object });

  it('creates a project with a derived slug and answers 201 with the documented fields', async () => {
    const res = await create({ name: 'Robotics Lab', description: 'Main robotics project', tags: ['robotics'] });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ name: 'Robotics Lab', slug: 'robotics-lab', description: 'Main robotics project', tags: ['robotics'], metadata: null });
    expect(typeof body.id).toBe('string');
    const got = await t.inject({ method: 'GET', url: '/namespaces/alice/projects/robotics-lab', headers: alice });
    expect(got.statusCode).toBe(200);
    expect(got.json().id).toBe(body.id);
  });

  it('spaces and projects are one resource; lists keep their documented key', async () => {
    const made = await create({ name: 'Via Spaces', slug: 'via-spaces' }, alice, 'spaces');
    expect(made.statusCode).toBe(201);
    const viaProjects = await t.inject({ method: 'GET', url: '/namespaces/alice/projects/via-spaces', headers: alice });
    expect(viaProjects.json().id).toBe(made.json().id);
    const spaces = await t.inject({ method: 'GET', url: '/namespaces/alice/spaces', headers: alice });
    expect(spaces.statusCode).toBe(200);
    expect(spaces.json().spaces.map((s: { slug: string }) => s.slug)).toContain('via-spaces');
    expect(spaces.json().projects).toBeUndefined();
    const projects = await t.inject({ method: 'GET', url: '/namespaces/alice/projects', headers: alice });
    expect(projects.json().projects.length).toBe(spaces.json().spaces.length);
  });

  it('paginates newest first with page, pageSize, total and totalPages', async () => {
    await t.inject({ method: 'POST', url: '/namespaces', headers: alice, payload: { slug: 'paging' } });
    for (let i = 0; i < 5; i++) await create({ name: `P ${i}` }, alice, 'projects', 'paging');
    const res = await t.inject({ method: 'GET', url: '/namespaces/paging/projects?page=2&pageSize=2', headers: alice });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ page: 2, pageSize: 2, total: 5, totalPages: 3 });
    expect(res.json().projects.map((p: { name: string }) => p.name)).toEqual(['P 2', 'P 1']);
    const past = await t.inject({ method: 'GET', url: '/namespaces/paging/projects?page=9&pageSize=2', headers: alice });
    expect(past.json()).toMatchObject({ projects: [], total: 5, totalPages: 3, page: 9 });
    const clamped = await t.inject({ method: 'GET', url: '/namespaces/paging/projects?pageSize=500', headers: alice });
    expect(clamped.json().pageSize).toBe(200);
    // DECISIONS: larger values are clamped, however large (a 400 only past 10^9, like page).
    for (const size of [1001, 1_000_000_000]) {
      const big = await t.inject({ method: 'GET', url: `/namespaces/paging/projects?pageSize=${size}`, headers: alice });
      expect(big.statusCode).toBe(200);
      expect(big.json()).toMatchObject({ pageSize: 200, total: 5 });
    }
    const empty = await t.inject({ method: 'GET', url: '/namespaces/bob/projects', headers: bob });
    expect(empty.json()).toEqual({ projects: [], page: 1, pageSize: 50, total: 0, totalPages: 0 });
  });

  it.each(['page=0', 'page=-1', 'page=abc', 'pageSize=0', 'pageSize=1000000001', 'page=1.5'])('rejects %s with 400', async (q) => {
    const res = await t.inject({ method: 'GET', url: `/namespaces/alice/projects?${q}`, headers: alice });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('validation_error');
  });

  it('answers 409 on a live duplicate slug, and a deleted project frees it', async () => {
    expect((await create({ name: 'Dup' })).statusCode).toBe(201);
    const again = await create({ name: 'dup' });
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toBe('conflict');
    const del = await t.inject({ method: 'DELETE', url: '/namespaces/alice/projects/dup', headers: alice });
    expect(del.statusCode).toBe(200);
    expect(del.json()).toEqual({ success: true });
    expect((await t.inject({ method: 'GET', url: '/namespaces/alice/projects/dup', headers: alice })).statusCode).toBe(404);
    expect((await t.inject({ method: 'PATCH', url: '/namespaces/alice/projects/dup', headers: alice, payload: { name: 'x' } })).statusCode).toBe(404);
    expect((await create({ name: 'Dup' })).statusCode).toBe(201);
  });

  it('PATCH changes only the given fields; a new slug retires the old one', async () => {
    await create({ name: 'Patchy', tags: ['a'], description: 'd' });
    const res = await t.inject({ method: 'PATCH', url: '/namespaces/alice/projects/patchy', headers: alice, payload: { slug: 'patched', metadata: { team: 'lab-a' } } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ name: 'Patchy', slug: 'patched', tags: ['a'], description: 'd', metadata: { team: 'lab-a' } });
    expect((await t.inject({ method: 'GET', url: '/namespaces/alice/projects/patchy', headers: alice })).statusCode).toBe(404);
    expect((await t.inject({ method: 'GET', url: '/namespaces/alice/spaces/patched', headers: alice })).statusCode).toBe(200);
    await create({ name: 'Other' });
    const clash = await t.inject({ method: 'PATCH', url: '/namespaces/alice/projects/other', headers: alice, payload: { slug: 'patched' } });
    expect(clash.statusCode).toBe(409);
  });

  it.each([
    ['name missing', {}],
    ['name empty', { name: '' }],
    ['name not a string', { name: 5 }],
    ['name too long', { name: 'x'.repeat(201) }],
    ['invalid slug', { name: 'ok', slug: 'Not A Slug' }],
    ['unknown field', { name: 'ok', colour: 'red' }],
    ['too many tags', { name: 'ok', tags: Array.from({ length: 51 }, (_, i) => `t${i}`) }],
    ['tag too long', { name: 'ok', tags: ['x'.repeat(65)] }],
    ['tags not strings', { name: 'ok', tags: [1] }],
    ['description too long', { name: 'ok', description: 'x'.repeat(10_001) }],
    ['metadata not an object', { name: 'ok', metadata: [1] }],
    ['metadata over 64 KiB', { name: 'ok', metadata: { blob: 'x'.repeat(70_000) } }],
    ['name with no slug characters', { name: '***' }],
  ])('rejects %s with 400 and stores nothing', async (_label, body) => {
    const before = (await t.inject({ method: 'GET', url: '/namespaces/alice/projects', headers: alice })).json().total;
    const res = await create(body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toHaveProperty('message');
    const after = (await t.inject({ method: 'GET', url: '/namespaces/alice/projects', headers: alice })).json().total;
    expect(after).toBe(before);
  });

  it('rejects malformed JSON with 400', async () => {
    const res = await t.inject({ method: 'POST', url: '/namespaces/alice/projects', headers: { ...alice, 'content-type': 'application/json' }, payload: '{"name": ' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('invalid_json');
  });

  it('hides other namespaces (404) and refuses readers who write (403)', async () => {
    expect((await t.inject({ method: 'GET', url: '/namespaces/alice/projects', headers: bob })).statusCode).toBe(404);
    expect((await t.inject({ method: 'GET', url: '/namespaces/alice/projects/robotics-lab', headers: bob })).statusCode).toBe(404);
    expect((await create({ name: 'Intruder' }, bob)).statusCode).toBe(404);
    expect((await t.inject({ method: 'GET', url: '/namespaces/nobody/projects', headers: bob })).statusCode).toBe(404);

    await t.inject({ method: 'POST', url: '/namespaces', headers: alice, payload: { slug: 'lab' } });
    expect((await t.inject({ method: 'PUT', url: '/namespaces/lab/members/bob', headers: alice, payload: { role: 'read' } })).statusCode).toBe(201);
    expect((await t.inject({ method: 'GET', url: '/namespaces/lab/projects', headers: bob })).statusCode).toBe(200);
    const write = await create({ name: 'Nope' }, bob, 'projects', 'lab');
    expect(write.statusCode).toBe(403);
    expect(write.json().error).toBe('forbidden');
    await t.inject({ method: 'PUT', url: '/namespaces/lab/members/bob', headers: alice, payload: { role: 'write' } });
    expect((await create({ name: 'Yes' }, bob, 'projects', 'lab')).statusCode).toBe(201);
  });

  it('requires a valid bearer token', async () => {
    expect((await t.inject({ method: 'GET', url: '/namespaces/alice/projects' })).statusCode).toBe(401);
    const bad = await t.inject({ method: 'GET', url: '/namespaces/alice/projects', headers: { authorization: 'Bearer not.a.jwt' } });
    expect(bad.statusCode).toBe(401);
    expect(bad.json().error).toBe('unauthorized');
  });
});
