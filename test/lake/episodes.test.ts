import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DIALECTS, type TestApp } from '../helpers/app.js';
import { labProject } from '../helpers/lake.js';

describe.each(DIALECTS)('DreamLake episodes (%s)', (dialect) => {
  let t: TestApp;
  let alice: Record<string, string>;
  let bob: Record<string, string>;
  const base = '/namespaces/alice/projects/lab';

  beforeAll(async () => {
    t = await createTestApp(dialect);
    ({ alice, bob } = await labProject(t));
  });
  afterAll(async () => t.close());

  const upsert = (payload: object, headers = alice) => t.inject({ method: 'POST', url: `${base}/episodes`, headers, payload });
  const get = (url: string) => t.inject({ method: 'GET', url: `${base}${url}`, headers: alice });
  const patch = (name: string, payload: object) => t.inject({ method: 'PATCH', url: `${base}/episodes/${encodeURIComponent(name)}`, headers: alice, payload });
  const lookup = (path: string) => get(`/nodes/lookup?path=${encodeURIComponent(path)}`);

  it('POST creates an episode (201, status running, at the root) and upserts it by name (200)', async () => {
    const res = await upsert({ name: 'run-1', description: 'first drive', tags: ['drive'] });
    expect(res.statusCode).toBe(201);
    const ep = res.json();
    expect(ep).toMatchObject({ name: 'run-1', description: 'first drive', status: 'running', tags: ['drive'], metadata: null, path: '/run-1', folder: '/', parentId: null });
    const node = (await get(`/nodes/${ep.id}`)).json();
    expect(node).toMatchObject({ kind: 'episode', leaf: false, path: '/run-1', status: 'running', description: 'first drive' });

    const again = await upsert({ name: 'run-1', status: 'completed', metadata: { km: 12 } });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ id: ep.id, status: 'completed', description: 'first drive', tags: ['drive'], metadata: { km: 12 } });
    expect((await get('/episodes/run-1')).json()).toMatchObject({ id: ep.id, status: 'completed' });
  });

  it('creates the episode inside a folder, making the missing folders', async () => {
    const res = await upsert({ name: 'run-2', folder: '/drives/2026' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ path: '/drives/2026/run-2', folder: '/drives/2026' });
    expect((await lookup('/drives/2026')).json().kind).toBe('folder');
  });

  it('is a node like any other: POST /nodes kind=episode shows up here, and names stay unique per project', async () => {
    const made = await t.inject({ method: 'POST', url: `${base}/nodes`, headers: alice, payload: { path: '/elsewhere/run-3', kind: 'episode' } });
    expect(made.statusCode).toBe(201);
    expect((await get('/episodes/run-3')).json()).toMatchObject({ id: made.json().id, folder: '/elsewhere' });
    const dup = await t.inject({ method: 'POST', url: `${base}/nodes`, headers: alice, payload: { path: '/other/run-3', kind: 'episode' } });
    expect(dup.statusCode).toBe(409);
    await t.inject({ method: 'POST', url: `${base}/nodes`, headers: alice, payload: { path: '/taken', kind: 'folder' } });
    const onFolder = await upsert({ name: 'taken' });
    expect(onFolder.statusCode).toBe(409);
  });

  it('validates the body', async () => {
    expect((await upsert({ name: 'x', status: 'paused' })).statusCode).toBe(400);
    expect((await upsert({ description: 'no name' })).statusCode).toBe(400);
    expect((await upsert({ name: 'a/b' })).json().error).toBe('invalid_path');
    expect((await upsert({ name: '..' })).statusCode).toBe(400);
    expect((await upsert({ name: 'ok', folder: '/a/../b' })).statusCode).toBe(400);
    expect((await upsert({ name: 'ok', bogus: true })).statusCode).toBe(400);
    expect((await get('/episodes/ok')).statusCode).toBe(404);
  });

  it('lists episodes newest first, paginated', async () => {
    const res = (await get('/episodes?pageSize=2')).json();
    expect(res).toMatchObject({ page: 1, pageSize: 2, total: 3, totalPages: 2 });
    expect(res.episodes.map((e: { name: string }) => e.name)).toEqual(['run-3', 'run-2']);
    expect((await get('/episodes?page=2&pageSize=2')).json().episodes.map((e: { name: string }) => e.name)).toEqual(['run-1']);
    expect((await get('/episodes?page=5&pageSize=2')).json()).toMatchObject({ episodes: [], total: 3 });
    expect((await get('/episodes/unknown')).statusCode).toBe(404);
  });

  it('PUT …/files/*?episode= puts the file in the episode folder; an unknown episode is a 404', async () => {
    const res = await t.inject({ method: 'PUT', url: `${base}/files/cam/front.mp4?episode=run-2`, headers: alice, payload: 'video' });
    expect(res.statusCode).toBe(201);
    expect(res.json().path).toBe('/drives/2026/run-2/cam/front.mp4');
    const missing = await t.inject({ method: 'PUT', url: `${base}/files/x.mp4?episode=nope`, headers: alice, payload: 'v' });
    expect(missing.statusCode).toBe(404);
  });

  it('PATCH renames and moves the episode; its files follow', async () => {
    const renamed = await patch('run-2', { name: 'run-2b', status: 'failed' });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json()).toMatchObject({ name: 'run-2b', status: 'failed', path: '/drives/2026/run-2b' });
    expect((await get('/episodes/run-2')).statusCode).toBe(404);
    const moved = await patch('run-2b', { folder: '/archive' });
    expect(moved.json()).toMatchObject({ path: '/archive/run-2b', folder: '/archive' });
    expect((await lookup('/archive/run-2b/cam/front.mp4')).statusCode).toBe(200);
    expect((await patch('run-2b', { folder: '/' })).json().path).toBe('/run-2b');
  });

  it('PATCH refuses a taken name (409), a move into itself (400), unknown episodes (404)', async () => {
    expect((await patch('run-2b', { name: 'run-1' })).statusCode).toBe(409);
    expect((await patch('run-2b', { name: 'taken' })).statusCode).toBe(409);
    expect((await patch('run-2b', { folder: '/run-2b/inside' })).statusCode).toBe(400);
    expect((await lookup('/run-2b/inside')).statusCode).toBe(404);
    expect((await patch('run-2b', { status: 'bogus' })).statusCode).toBe(400);
    expect((await patch('nope', { status: 'archived' })).statusCode).toBe(404);
  });

  it('DELETE removes the episode and everything in it; the name is free again', async () => {
    const res = await t.inject({ method: 'DELETE', url: `${base}/episodes/run-2b`, headers: alice });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ success: true, deleted: 3 });
    expect((await get('/episodes/run-2b')).statusCode).toBe(404);
    expect((await lookup('/run-2b/cam/front.mp4')).statusCode).toBe(404);
    expect((await t.inject({ method: 'DELETE', url: `${base}/episodes/run-2b`, headers: alice })).statusCode).toBe(404);
    expect((await upsert({ name: 'run-2b' })).statusCode).toBe(201);
  });

  it('outsiders get 404; readers may read but not write (403)', async () => {
    expect((await t.inject({ method: 'GET', url: `${base}/episodes`, headers: bob })).statusCode).toBe(404);
    await t.inject({ method: 'POST', url: '/namespaces', headers: alice, payload: { slug: 'team' } });
    await t.inject({ method: 'POST', url: '/namespaces/team/projects', headers: alice, payload: { name: 'T' } });
    await t.inject({ method: 'PUT', url: '/namespaces/team/members/bob', headers: alice, payload: { role: 'read' } });
    const at = '/namespaces/team/projects/t/episodes';
    await t.inject({ method: 'POST', url: at, headers: alice, payload: { name: 'e' } });
    expect((await t.inject({ method: 'GET', url: `${at}/e`, headers: bob })).statusCode).toBe(200);
    expect((await t.inject({ method: 'POST', url: at, headers: bob, payload: { name: 'f' } })).statusCode).toBe(403);
    expect((await t.inject({ method: 'PATCH', url: `${at}/e`, headers: bob, payload: { status: 'failed' } })).statusCode).toBe(403);
    expect((await t.inject({ method: 'DELETE', url: `${at}/e`, headers: bob })).statusCode).toBe(403);
    expect((await t.inject({ method: 'GET', url: at })).statusCode).toBe(401);
  });
});
