import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScriptTestApp, DIALECTS, type ScriptTestApp } from './helpers.js';

describe.each(DIALECTS)('Dreamscript projects (%s)', (dialect) => {
  let t: ScriptTestApp;
  let key: string;
  beforeAll(async () => {
    t = await createScriptTestApp(dialect);
    key = await t.key();
  });
  afterAll(async () => t.close());

  const storedProject = (id: number) => t.db.selectFrom('script_projects').selectAll().where('id', '=', id).executeTakeFirst();

  it('creates a project as documented (201; description optional) and reads it back', async () => {
    const res = await t.call(key, {
      method: 'POST',
      url: '/projects',
      payload: { name: 'Analytics experiments', description: 'Ad-hoc analysis and dashboards.' },
    });
    expect(res.statusCode).toBe(201);
    const project = res.json();
    expect(project).toMatchObject({ name: 'Analytics experiments', description: 'Ad-hoc analysis and dashboards.' });
    expect(Number.isInteger(project.id)).toBe(true);
    expect(res.headers.location).toBe(`/dreamscript/projects/${project.id}`);
    const got = await t.call(key, { method: 'GET', url: `/projects/${project.id}` });
    expect(got.json()).toEqual(project);

    const bare = await t.call(key, { method: 'POST', url: '/projects', payload: { name: 'No description' } });
    expect(bare.statusCode).toBe(201);
    expect(bare.json()).not.toHaveProperty('description');
  });

  it.each([
    ['missing name', {}],
    ['empty name', { name: '' }],
    ['non-string name', { name: 3 }],
    ['unknown field', { name: 'x', owner: 'me' }],
    ['null description', { name: 'x', description: null }],
  ])('refuses %s with a 400 and stores nothing', async (_name, payload) => {
    const count = async () =>
      Number((await t.db.selectFrom('script_projects').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    const before = await count();
    const res = await t.call(key, { method: 'POST', url: '/projects', payload });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('validation_error');
    expect(await count()).toBe(before);
  });

  it('PATCH changes name and description (null clears it)', async () => {
    const { id } = (await t.call(key, { method: 'POST', url: '/projects', payload: { name: 'Old', description: 'd' } })).json();
    const renamed = await t.call(key, { method: 'PATCH', url: `/projects/${id}`, payload: { name: 'New' } });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json()).toMatchObject({ id, name: 'New', description: 'd' });
    const cleared = await t.call(key, { method: 'PATCH', url: `/projects/${id}`, payload: { description: null } });
    expect(cleared.json()).not.toHaveProperty('description');
    expect(await storedProject(id)).toMatchObject({ name: 'New', description: null });
    expect((await t.call(key, { method: 'PATCH', url: `/projects/${id}`, payload: {} })).statusCode).toBe(400);
    expect((await t.call(key, { method: 'PATCH', url: '/projects/999999', payload: { name: 'x' } })).statusCode).toBe(404);
  });

  it('DELETE removes an empty project only: 409 while it holds live documents', async () => {
    const { id } = (await t.call(key, { method: 'POST', url: '/projects', payload: { name: 'Temporary' } })).json();
    const doc = (await t.call(key, { method: 'POST', url: '/documents', payload: { title: 'inside', projectId: id } })).json();

    const refused = await t.call(key, { method: 'DELETE', url: `/projects/${id}` });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toBe('conflict');
    expect((await storedProject(id))?.deleted_at).toBeNull();

    // A deleted document no longer holds its project.
    await t.call(key, { method: 'DELETE', url: `/documents/${doc.id}` });
    const res = await t.call(key, { method: 'DELETE', url: `/projects/${id}` });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect((await storedProject(id))?.deleted_at).toEqual(expect.any(String));

    expect((await t.call(key, { method: 'GET', url: `/projects/${id}` })).statusCode).toBe(404);
    expect((await t.call(key, { method: 'DELETE', url: `/projects/${id}` })).statusCode).toBe(404);
    expect((await t.call(key, { method: 'GET', url: `/projects/${id}/documents` })).statusCode).toBe(404);
    const placed = await t.call(key, { method: 'POST', url: '/documents', payload: { title: 'late', projectId: id } });
    expect(placed.statusCode).toBe(400);
    const list = (await t.call(key, { method: 'GET', url: '/projects?limit=1000' })).json();
    expect(list.map((p: { id: number }) => p.id)).not.toContain(id);
  });

  it('lists the documents of one project', async () => {
    const { id } = (await t.call(key, { method: 'POST', url: '/projects', payload: { name: 'Holder' } })).json();
    const ids: number[] = [];
    for (const title of ['a', 'b', 'c']) {
      ids.push((await t.call(key, { method: 'POST', url: '/documents', payload: { title, projectId: id } })).json().id);
    }
    await t.call(key, { method: 'POST', url: '/documents', payload: { title: 'elsewhere' } });
    const first = await t.call(key, { method: 'GET', url: `/projects/${id}/documents?limit=2` });
    expect(first.statusCode).toBe(200);
    expect(first.json().map((d: { id: number }) => d.id)).toEqual(ids.slice(0, 2));
    const next = await t.app.inject({ method: 'GET', url: first.headers['x-next'] as string, headers: { 'x-api-key': key } });
    expect(next.json().map((d: { id: number }) => d.id)).toEqual(ids.slice(2));
    expect(next.headers['x-next']).toBeUndefined();

    const { id: empty } = (await t.call(key, { method: 'POST', url: '/projects', payload: { name: 'Empty' } })).json();
    const none = await t.call(key, { method: 'GET', url: `/projects/${empty}/documents` });
    expect(none.statusCode).toBe(200);
    expect(none.json()).toEqual([]);
  });
});
