import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DIALECTS, type TestApp } from '../helpers/app.js';
import { labProject } from '../helpers/lake.js';

// A path is at most 64 levels and 2,048 bytes (docs/dreamlake-nodes.md). Paths put together from parts
// checked on their own (a move carrying a subtree, an episode's folder and name, a file path inside an
// episode) are held to the same limits: a 400 invalid_path that changes nothing, on both databases (PostgreSQL
// used to refuse some with a vague 400 of its index, SQLite stored them, and lookups then refused the path).

/** A name of 250 bytes that does not compress (PostgreSQL compresses long index entries). */
const longName = () => randomBytes(125).toString('hex');
const levels = (n: number, name = 'd') => Array.from({ length: n }, () => name).join('/');

describe.each(DIALECTS)('DreamLake path limits after moves and joins (%s)', (dialect) => {
  let t: TestApp;
  let alice: Record<string, string>;
  const base = '/namespaces/alice/projects/lab';

  beforeAll(async () => {
    t = await createTestApp(dialect);
    ({ alice } = await labProject(t));
  });
  afterAll(async () => t.close());

  const mkdir = (path: string) => t.inject({ method: 'POST', url: `${base}/nodes`, headers: alice, payload: { path, kind: 'folder' } });
  const lookup = (path: string) => t.inject({ method: 'GET', url: `${base}/nodes/lookup?path=${encodeURIComponent(path)}`, headers: alice });
  const patch = (id: string, payload: object) => t.inject({ method: 'PATCH', url: `${base}/nodes/${id}`, headers: alice, payload });
  const put = (path: string, query = '') =>
    t.inject({ method: 'PUT', url: `${base}/files/${path}${query}`, headers: { ...alice, 'content-type': 'text/plain' }, payload: 'x' });
  const episode = (method: 'POST' | 'PATCH', payload: object, name = '') =>
    t.inject({ method, url: `${base}/episodes${name ? `/${name}` : ''}`, headers: alice, payload });
  const expectInvalidPath = (res: { statusCode: number; body: string; json(): { error: string } }) => {
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error).toBe('invalid_path');
  };

  it('a move whose subtree would pass 2,048 bytes is a 400; the subtree stays where it was', async () => {
    const a = `/bytes-a/${Array.from({ length: 8 }, longName).join('/')}`; // 2,016 bytes
    const b = `/bytes-b/${Array.from({ length: 4 }, longName).join('/')}`;
    const file = (await put(`${a.slice(1)}/f.txt`)).json();
    const top = (await lookup('/bytes-a')).json();
    const target = (await mkdir(b)).json();
    expectInvalidPath(await patch(top.id, { parentId: target.id }));
    expect((await lookup(`${a}/f.txt`)).json().id).toBe(file.id);
    // a rename that only lengthens the top name by a little still fits, and is taken
    const renamed = await patch(top.id, { name: 'bytes-a-2' });
    expect(renamed.statusCode, renamed.body).toBe(200);
    expect((await lookup(`/bytes-a-2${a.slice('/bytes-a'.length)}/f.txt`)).json().id).toBe(file.id);
    expectInvalidPath(await patch(top.id, { name: longName() + longName().slice(0, 4) }));
  });

  it('a move whose subtree would pass 64 levels is a 400; exactly 64 is taken', async () => {
    const deep = (await mkdir(`/depth/${levels(55)}`)).json();
    const top = (await mkdir(`/moved/${levels(8, 'm')}`)).json();
    const moved = (await lookup('/moved')).json();
    expectInvalidPath(await patch(moved.id, { parentId: deep.id }));
    expect((await lookup(`/moved/${levels(8, 'm')}`)).json().id).toBe(top.id);
    const shallower = (await lookup(`/depth/${levels(54)}`)).json();
    const ok = await patch(moved.id, { parentId: shallower.id });
    expect(ok.statusCode, ok.body).toBe(200);
    expect((await lookup(`/depth/${levels(54)}/moved/${levels(8, 'm')}`)).json().id).toBe(top.id);
  });

  it('an episode whose folder and name together pass 64 levels is a 400, created or moved', async () => {
    expectInvalidPath(await episode('POST', { name: 'ep-deep', folder: `/${levels(64, 'w')}` }));
    expect((await t.inject({ method: 'GET', url: `${base}/episodes/ep-deep`, headers: alice })).statusCode).toBe(404);
    expect((await episode('POST', { name: 'ep-moving' })).statusCode).toBe(201);
    expectInvalidPath(await episode('PATCH', { folder: `/${levels(64, 'w')}` }, 'ep-moving'));
    expectInvalidPath(await episode('POST', { name: 'ep-moving', folder: `/${levels(64, 'w')}` }));
    expect((await t.inject({ method: 'GET', url: `${base}/episodes/ep-moving`, headers: alice })).json().path).toBe('/ep-moving');
  });

  it('a file path inside an episode that together pass the limits is a 400, storing nothing', async () => {
    const folder = `/ep-in/${Array.from({ length: 7 }, longName).join('/')}`; // 1,763 bytes
    const made = await episode('POST', { name: 'ep-long', folder });
    expect(made.statusCode, made.body).toBe(201);
    expectInvalidPath(await put(`${longName()}/${longName()}/f.txt`, '?episode=ep-long'));
    expect((await put('short.txt', '?episode=ep-long')).statusCode).toBe(201);
    expect((await episode('POST', { name: 'ep-60', folder: `/${levels(60, 'v')}` })).statusCode).toBe(201);
    expectInvalidPath(await put(`${levels(4, 'u')}/f.txt`, '?episode=ep-60'));
    expect((await put(`${levels(2, 'u')}/f.txt`, '?episode=ep-60')).statusCode).toBe(201);
    const contents = await t.inject({ method: 'GET', url: `${base}/nodes/${made.json().id}/descendants`, headers: alice });
    expect(contents.json().nodes.map((n: { name: string }) => n.name)).toEqual(['short.txt']);
  });
});
