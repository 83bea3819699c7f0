import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DIALECTS, type TestApp } from '../helpers/app.js';

describe.each(DIALECTS)('DreamLake namespaces and members (%s)', (dialect) => {
  let t: TestApp;
  let alice: Record<string, string>;
  let bob: Record<string, string>;
  let carol: Record<string, string>;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    alice = await t.auth('alice');
    bob = await t.auth('@Bob');
    carol = await t.auth('carol');
    // Users appear on their first authenticated request.
    for (const h of [alice, bob, carol]) await t.inject({ method: 'GET', url: '/auth/me', headers: h });
  });
  afterAll(async () => t.close());

  const put = (ns: string, user: string, role: string, headers = alice) =>
    t.inject({ method: 'PUT', url: `/namespaces/${ns}/members/${user}`, headers, payload: { role } });

  it('creates the user and a personal namespace on first request (GET /auth/me)', async () => {
    const res = await t.inject({ method: 'GET', url: '/auth/me', headers: bob });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ username: 'bob', namespace: { slug: 'bob', kind: 'user', role: 'owner' } });
    // What the original clients' `profile` prints (ORIGINAL-CLIENT-PROTOCOL.md 5.1): id, sub, username, createdAt.
    const me = res.json();
    expect(me).toEqual(expect.objectContaining({ id: expect.any(String), sub: 'bob', createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) }));
    expect(Date.now() - Date.parse(me.createdAt)).toBeLessThan(60_000);
    const ns = await t.inject({ method: 'GET', url: '/namespaces/bob', headers: bob });
    expect(ns.statusCode).toBe(200);
    expect(ns.json()).toMatchObject({ slug: 'bob', projects: 0, assets: {} });
  });

  it('creates an organisation namespace whose creator is owner; 409 on a taken slug', async () => {
    const res = await t.inject({ method: 'POST', url: '/namespaces', headers: alice, payload: { slug: 'acme', name: 'Acme Inc', metadata: { tier: 1 } } });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ slug: 'acme', name: 'Acme Inc', kind: 'org', role: 'owner', metadata: { tier: 1 } });
    expect((await t.inject({ method: 'POST', url: '/namespaces', headers: bob, payload: { slug: 'acme' } })).statusCode).toBe(409);
    expect((await t.inject({ method: 'POST', url: '/namespaces', headers: bob, payload: { slug: 'alice' } })).statusCode).toBe(409);
  });

  it.each([
    [{}],
    [{ slug: 'Bad Slug' }],
    [{ slug: 'ok-slug', extra: 1 }],
    [{ slug: 'x'.repeat(65) }],
    [{ slug: 'ok-two', metadata: 'nope' }],
  ])('rejects namespace body %j with 400', async (body) => {
    const res = await t.inject({ method: 'POST', url: '/namespaces', headers: alice, payload: body });
    expect(res.statusCode).toBe(400);
  });

  it('lists only the namespaces the caller belongs to', async () => {
    const res = await t.inject({ method: 'GET', url: '/namespaces', headers: alice });
    expect(res.statusCode).toBe(200);
    const slugs = res.json().namespaces.map((n: { slug: string }) => n.slug);
    expect(slugs).toEqual(expect.arrayContaining(['alice', 'acme']));
    expect(slugs).not.toContain('bob');
    expect(res.json()).toMatchObject({ page: 1, pageSize: 50, total: slugs.length });
  });

  it('hides a namespace from outsiders with the same 404 as a missing one', async () => {
    const hidden = await t.inject({ method: 'GET', url: '/namespaces/acme', headers: bob });
    const missing = await t.inject({ method: 'GET', url: '/namespaces/no-such', headers: bob });
    expect(hidden.statusCode).toBe(404);
    expect(hidden.json()).toEqual(missing.json());
  });

  it('manages members by role: admin needs admin, ownership needs owner, one owner stays', async () => {
    expect((await put('acme', 'bob', 'admin')).statusCode).toBe(201);
    expect((await put('acme', 'bob', 'admin')).statusCode).toBe(200);
    expect((await put('acme', 'nobody', 'read')).statusCode).toBe(404);
    // An admin may add readers and writers, but not owners.
    expect((await put('acme', 'carol', 'write', bob)).statusCode).toBe(201);
    expect((await put('acme', 'carol', 'owner', bob)).statusCode).toBe(403);
    // A writer may not manage members or settings.
    expect((await put('acme', 'bob', 'read', carol)).statusCode).toBe(403);
    expect((await t.inject({ method: 'PATCH', url: '/namespaces/acme', headers: carol, payload: { name: 'x' } })).statusCode).toBe(403);
    // The last owner can neither be demoted nor removed.
    expect((await put('acme', 'alice', 'admin')).statusCode).toBe(409);
    expect((await t.inject({ method: 'DELETE', url: '/namespaces/acme/members/alice', headers: alice })).statusCode).toBe(409);

    const list = await t.inject({ method: 'GET', url: '/namespaces/acme/members', headers: carol });
    expect(list.statusCode).toBe(200);
    // Newest first, like every DreamLake list.
    expect(list.json().members.map((m: { username: string; role: string }) => [m.username, m.role])).toEqual([
      ['carol', 'write'],
      ['bob', 'admin'],
      ['alice', 'owner'],
    ]);
    expect(list.json().total).toBe(3);

    // A member may leave on their own.
    expect((await t.inject({ method: 'DELETE', url: '/namespaces/acme/members/carol', headers: carol })).statusCode).toBe(200);
    expect((await t.inject({ method: 'GET', url: '/namespaces/acme', headers: carol })).statusCode).toBe(404);
    expect((await put('acme', 'bob', 'sovereign')).statusCode).toBe(400);
  });

  it('PATCH changes settings (admin) and DELETE soft-deletes (owner), freeing the slug', async () => {
    const patched = await t.inject({ method: 'PATCH', url: '/namespaces/acme', headers: bob, payload: { name: 'Acme Robotics' } });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ name: 'Acme Robotics', slug: 'acme', metadata: { tier: 1 } });
    expect((await t.inject({ method: 'DELETE', url: '/namespaces/acme', headers: bob })).statusCode).toBe(403);
    expect((await t.inject({ method: 'DELETE', url: '/namespaces/alice', headers: alice })).statusCode).toBe(400);
    const del = await t.inject({ method: 'DELETE', url: '/namespaces/acme', headers: alice });
    expect(del.statusCode).toBe(200);
    expect(del.json()).toEqual({ success: true });
    expect((await t.inject({ method: 'GET', url: '/namespaces/acme', headers: alice })).statusCode).toBe(404);
    expect((await t.inject({ method: 'GET', url: '/namespaces/acme/projects', headers: alice })).statusCode).toBe(404);
    expect((await t.inject({ method: 'POST', url: '/namespaces', headers: bob, payload: { slug: 'acme' } })).statusCode).toBe(201);
  });

  it('counts live projects on GET /namespaces/:slug', async () => {
    await t.inject({ method: 'POST', url: '/namespaces/carol/projects', headers: carol, payload: { name: 'One' } });
    await t.inject({ method: 'POST', url: '/namespaces/carol/projects', headers: carol, payload: { name: 'Two' } });
    await t.inject({ method: 'DELETE', url: '/namespaces/carol/projects/two', headers: carol });
    const res = await t.inject({ method: 'GET', url: '/namespaces/carol', headers: carol });
    expect(res.json().projects).toBe(1);
  });

  it('rejects expired and wrongly signed tokens with 401', async () => {
    const { SignJWT } = await import('jose');
    const wrong = await new SignJWT({ username: 'alice' }).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setExpirationTime('1h').sign(new TextEncoder().encode('another-secret-another-secret-another'));
    expect((await t.inject({ method: 'GET', url: '/auth/me', headers: { authorization: `Bearer ${wrong}` } })).statusCode).toBe(401);
    const { TEST_JWT_SECRET } = await import('../helpers/app.js');
    const expired = await new SignJWT({ username: 'alice' }).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setExpirationTime(Math.floor(Date.now() / 1000) - 60).sign(new TextEncoder().encode(TEST_JWT_SECRET));
    expect((await t.inject({ method: 'GET', url: '/auth/me', headers: { authorization: `Bearer ${expired}` } })).statusCode).toBe(401);
  });
});
