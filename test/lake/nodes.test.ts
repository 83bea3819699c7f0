import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DIALECTS, type TestApp } from '../helpers/app.js';
import { labProject } from '../helpers/lake.js';

type Node = { id: string; path: string; name: string; kind: string; leaf: boolean; parentId: string | null };

describe.each(DIALECTS)('DreamLake node tree (%s)', (dialect) => {
  let t: TestApp;
  let alice: Record<string, string>;
  let bob: Record<string, string>;
  const base = '/namespaces/alice/projects/lab';

  beforeAll(async () => {
    t = await createTestApp(dialect);
    ({ alice, bob } = await labProject(t));
    await t.inject({ method: 'POST', url: '/namespaces/alice/projects', headers: alice, payload: { name: 'Other' } });
  });
  afterAll(async () => t.close());

  const mkdir = (path: string, extra: object = {}, headers = alice, at = base) =>
    t.inject({ method: 'POST', url: `${at}/nodes`, headers, payload: { path, kind: 'folder', ...extra } });
  const put = (path: string, body = 'x', headers: Record<string, string> = {}, at = base) =>
    t.inject({ method: 'PUT', url: `${at}/files/${path}`, headers: { ...alice, ...headers }, payload: Buffer.from(body) });
  const get = (url: string, headers = alice) => t.inject({ method: 'GET', url: `${base}${url}`, headers });
  const lookup = (path: string) => get(`/nodes/lookup?path=${encodeURIComponent(path)}`);
  const patch = (id: string, payload: object, headers = alice) => t.inject({ method: 'PATCH', url: `${base}/nodes/${id}`, headers, payload });
  const del = (id: string, headers = alice) => t.inject({ method: 'DELETE', url: `${base}/nodes/${id}`, headers });
  const children = async (parentId?: string) =>
    (await get(`/nodes?pageSize=200${parentId ? `&parentId=${parentId}` : ''}`)).json().nodes as Node[];

  describe('POST /nodes', () => {
    it('creates the folder and its missing ancestors (201), then answers 200 with the same node', async () => {
      const res = await mkdir('/camera/front/day1', { tags: ['raw'], metadata: { rig: 'a' } });
      expect(res.statusCode).toBe(201);
      const node = res.json();
      expect(node).toMatchObject({ name: 'day1', path: '/camera/front/day1', kind: 'folder', leaf: false, tags: ['raw'], metadata: { rig: 'a' }, size: null, contentType: null, sha256: null });
      const front = (await lookup('/camera/front')).json();
      expect(front).toMatchObject({ kind: 'folder', path: '/camera/front', name: 'front' });
      expect(node.parentId).toBe(front.id);
      expect((await lookup('/camera')).json().id).toBe(front.parentId);
      expect((await lookup('/camera')).json().parentId).toBeNull();

      const again = await mkdir('camera/front/day1/');
      expect(again.statusCode).toBe(200);
      expect(again.json().id).toBe(node.id);
      expect(again.json().tags).toEqual(['raw']);
      const viaSpaces = await mkdir('/camera/front/day1', {}, alice, '/namespaces/alice/spaces/lab');
      expect(viaSpaces.statusCode).toBe(200);
      expect(viaSpaces.json().id).toBe(node.id);
    });

    it('two concurrent identical requests (and many sharing ancestors) all succeed with one node each', async () => {
      const same = await Promise.all(Array.from({ length: 8 }, () => mkdir('/race/a/b')));
      expect(same.map((r) => r.statusCode).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
      expect(new Set(same.map((r) => r.json().id)).size).toBe(1);
      const shared = await Promise.all(Array.from({ length: 8 }, (_, i) => mkdir(`/race/shared/x${i}`)));
      expect(shared.every((r) => r.statusCode === 201)).toBe(true);
      const race = (await lookup('/race')).json();
      expect((await children(race.id)).map((n) => n.name)).toEqual(['a', 'shared']);
      expect(new Set(shared.map((r) => r.json().parentId)).size).toBe(1);
    });

    it('creates episodes; a different kind at the path or a file on the way is a 409', async () => {
      const ep = await t.inject({ method: 'POST', url: `${base}/nodes`, headers: alice, payload: { path: '/runs/ep-1', kind: 'episode' } });
      expect(ep.statusCode).toBe(201);
      expect(ep.json()).toMatchObject({ kind: 'episode', leaf: false, status: 'running', description: null });
      expect((await mkdir('/runs/ep-1')).statusCode).toBe(409);
      expect((await put('runs/clip.mp4')).statusCode).toBe(201);
      const onFile = await mkdir('/runs/clip.mp4');
      expect(onFile.statusCode).toBe(409);
      expect(onFile.json().error).toBe('conflict');
      expect((await mkdir('/runs/clip.mp4/inner')).statusCode).toBe(409);
      expect((await lookup('/runs/clip.mp4/inner')).statusCode).toBe(404);
    });

    it.each([
      ['/a/../b'],
      ['..'],
      ['/a/./b'],
      ['/a\\b'],
      ['/a//b'],
      ['/tab\there'],
      [`/${'n'.repeat(256)}`],
      [`/${Array(65).fill('d').join('/')}`],
      ['/'],
      // Percent-encoded traversal is refused in bodies as in URLs (a tool that decodes paths would follow it).
      ['/a/%2e%2e/x'],
      ['%2E.'],
      ['/a%2Fb'],
      ['/a%5cb'],
    ])('refuses the path %j with 400 and creates nothing', async (path) => {
      const before = (await children()).length;
      const res = await mkdir(path);
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toBe('invalid_path');
      expect((await children()).length).toBe(before);
    });

    it('refuses a NUL in the path with the 400 every body field gets (core input guard), creating nothing', async () => {
      const before = (await children()).length;
      const res = await mkdir('/a\u0000b');
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: 'validation_error', message: 'Field path contains a NUL character, which text fields cannot hold.' });
      expect((await children()).length).toBe(before);
    });

    it('takes names with a % that decode to nothing else (or to nothing at all)', async () => {
      for (const path of ['/100% done', '/50%2Doff', '/%2e%2e%2e']) {
        const res = await mkdir(path);
        expect(res.statusCode).toBe(201);
        expect(res.json().path).toBe(path);
      }
    });

    it('validates the body strictly', async () => {
      expect((await mkdir('/x', { extra: 1 })).json().error).toBe('validation_error');
      expect((await t.inject({ method: 'POST', url: `${base}/nodes`, headers: alice, payload: { path: '/x', kind: 'video' } })).statusCode).toBe(400);
      expect((await t.inject({ method: 'POST', url: `${base}/nodes`, headers: alice, payload: { kind: 'folder' } })).statusCode).toBe(400);
      expect((await mkdir('/x', { tags: 'a' })).statusCode).toBe(400);
      expect((await lookup('/x')).statusCode).toBe(404);
    });
  });

  describe('reading the tree', () => {
    it('lists children folders first, then by name (byte order), paginated', async () => {
      const folder = (await mkdir('/list')).json();
      for (const name of ['b.txt', 'a.txt', 'B.txt']) expect((await put(`list/${name}`)).statusCode).toBe(201);
      await mkdir('/list/z');
      await mkdir('/list/c');
      const all = (await get(`/nodes?parentId=${folder.id}`)).json();
      expect(all.nodes.map((n: Node) => n.name)).toEqual(['c', 'z', 'B.txt', 'a.txt', 'b.txt']);
      expect(all).toMatchObject({ page: 1, pageSize: 50, total: 5, totalPages: 1 });
      const page2 = (await get(`/nodes?parentId=${folder.id}&page=2&pageSize=2`)).json();
      expect(page2).toMatchObject({ page: 2, pageSize: 2, total: 5, totalPages: 3 });
      expect(page2.nodes.map((n: Node) => n.name)).toEqual(['B.txt', 'a.txt']);
      const past = (await get(`/nodes?parentId=${folder.id}&page=9&pageSize=2`)).json();
      expect(past).toMatchObject({ nodes: [], total: 5, totalPages: 3 });
      const root = (await get('/nodes')).json();
      expect(root.nodes.every((n: Node) => n.parentId === null)).toBe(true);
      expect(root.nodes.map((n: Node) => n.name)).toContain('list');
    });

    it('lists children in the order asked (sort, order), every page following the same total order', async () => {
      const folder = (await mkdir('/sorted')).json();
      for (const [name, body] of [['b.txt', 'bbb'], ['a.txt', 'a'], ['B.txt', 'BB']]) expect((await put(`sorted/${name}`, body)).statusCode).toBe(201);
      await mkdir('/sorted/z');
      await mkdir('/sorted/c');
      const names = async (query: string, pageSize = 200, page = 1) => {
        const res = await get(`/nodes?parentId=${folder.id}&${query}&pageSize=${pageSize}&page=${page}`);
        expect(res.statusCode, query).toBe(200);
        return res.json().nodes.map((n: Node) => n.name) as string[];
      };
      const expected: [string, string[]][] = [
        ['sort=folders', ['c', 'z', 'B.txt', 'a.txt', 'b.txt']],
        ['sort=folders&order=desc', ['z', 'c', 'b.txt', 'a.txt', 'B.txt']],
        ['sort=name', ['B.txt', 'a.txt', 'b.txt', 'c', 'z']],
        ['sort=name&order=desc', ['z', 'c', 'b.txt', 'a.txt', 'B.txt']],
        ['sort=kind', ['c', 'z', 'B.txt', 'a.txt', 'b.txt']],
        // Folders have no size: the smallest on both databases.
        ['sort=size', ['c', 'z', 'a.txt', 'B.txt', 'b.txt']],
        ['sort=size&order=desc', ['b.txt', 'B.txt', 'a.txt', 'c', 'z']],
      ];
      for (const [query, order] of expected) {
        expect(await names(query), query).toEqual(order);
        const paged = [...(await names(query, 2, 1)), ...(await names(query, 2, 2)), ...(await names(query, 2, 3))];
        expect(paged, `${query}, pages of 2`).toEqual(order);
      }
      await new Promise((r) => setTimeout(r, 20));
      expect((await patch((await lookup('/sorted/a.txt')).json().id, { tags: ['touched'] })).statusCode).toBe(200);
      expect((await names('sort=updatedAt&order=desc'))[0]).toBe('a.txt');
      expect((await names('sort=updatedAt')).at(-1)).toBe('a.txt');
      expect((await names('sort=createdAt&order=desc'))[0]).toBe('c');
      for (const bad of ['sort=size%20desc', 'sort=', 'order=up', 'sort=Name']) {
        const res = await get(`/nodes?parentId=${folder.id}&${bad}`);
        expect(res.statusCode, bad).toBe(400);
      }
    });

    it('answers 404 for an unknown parent, 400 for a file as parent and bad paging', async () => {
      expect((await get('/nodes?parentId=nope')).statusCode).toBe(404);
      const file = (await lookup('/list/a.txt')).json();
      const res = await get(`/nodes?parentId=${file.id}`);
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toBe('not_a_folder');
      expect((await get('/nodes?pageSize=0')).statusCode).toBe(400);
      expect((await get('/nodes?page=abc')).statusCode).toBe(400);
    });

    it('gets a node by id and by path; other projects cannot see it', async () => {
      const file = (await lookup('/list/a.txt')).json();
      expect(file).toMatchObject({ path: '/list/a.txt', kind: 'text', leaf: true, size: 1, contentType: 'text/plain' });
      expect((await get(`/nodes/${file.id}`)).json()).toEqual(file);
      expect((await lookup('list/a.txt')).json().id).toBe(file.id);
      expect((await get('/nodes/unknown')).statusCode).toBe(404);
      expect((await lookup('/list/nothing')).statusCode).toBe(404);
      expect((await lookup('/list/../a.txt')).statusCode).toBe(400);
      expect((await lookup('/')).statusCode).toBe(400);
      const other = await t.inject({ method: 'GET', url: `/namespaces/alice/projects/other/nodes/${file.id}`, headers: alice });
      expect(other.statusCode).toBe(404);
    });

    it('lists descendants in path order, with leavesOnly and kind filters, paginated', async () => {
      const d = (await mkdir('/d')).json();
      await put('d/x.txt');
      await put('d/e/y.mp4');
      await put('d/e/f/z.png');
      const all = (await get(`/nodes/${d.id}/descendants`)).json();
      expect(all.nodes.map((n: Node) => n.path)).toEqual(['/d/e', '/d/e/f', '/d/e/f/z.png', '/d/e/y.mp4', '/d/x.txt']);
      expect(all.total).toBe(5);
      const leaves = (await get(`/nodes/${d.id}/descendants?leavesOnly=true`)).json();
      expect(leaves.nodes.map((n: Node) => n.kind)).toEqual(['image', 'video', 'text']);
      const videos = (await get(`/nodes/${d.id}/descendants?leavesOnly=true&kind=video`)).json();
      expect(videos).toMatchObject({ total: 1, nodes: [{ path: '/d/e/y.mp4' }] });
      const paged = (await get(`/nodes/${d.id}/descendants?pageSize=2&page=3`)).json();
      expect(paged).toMatchObject({ total: 5, totalPages: 3, nodes: [{ path: '/d/x.txt' }] });
      expect((await get(`/nodes/${d.id}/descendants?pageSize=2&page=4`)).json()).toMatchObject({ total: 5, nodes: [] });
      // Kinds are an open vocabulary: an unused one matches nothing, a malformed one is a 400.
      expect((await get(`/nodes/${d.id}/descendants?kind=bogus`)).json()).toMatchObject({ total: 0, nodes: [] });
      // A filter may name any kind a node can have (the original clients' routes take free-form kinds).
      expect((await get(`/nodes/${d.id}/descendants?kind=Bogus!`)).json()).toMatchObject({ total: 0, nodes: [] });
      expect((await get(`/nodes/${d.id}/descendants?kind=${'k'.repeat(65)}`)).statusCode).toBe(400);
      const leaf = (await lookup('/d/x.txt')).json();
      expect((await get(`/nodes/${leaf.id}/descendants`)).statusCode).toBe(400);
      expect((await get('/nodes/unknown/descendants')).statusCode).toBe(404);
      // A similar-looking sibling is not part of the subtree.
      await put('d-not-inside.txt');
      await put('d0/inside-not.txt');
      expect((await get(`/nodes/${d.id}/descendants`)).json().total).toBe(5);
    });
  });

  describe('PATCH /nodes/:id', () => {
    it('renames a folder and its whole subtree follows', async () => {
      const src = (await mkdir('/mv/src')).json();
      const file = (await put('mv/src/deep/clip.mp4', 'bytes')).json();
      const res = await patch(src.id, { name: 'renamed' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ id: src.id, name: 'renamed', path: '/mv/renamed' });
      expect((await lookup('/mv/renamed/deep/clip.mp4')).json().id).toBe(file.id);
      expect((await lookup('/mv/src/deep/clip.mp4')).statusCode).toBe(404);
      expect((await lookup('/mv/renamed/deep')).json().path).toBe('/mv/renamed/deep');
    });

    it('moves under another folder or to the root; IDs, content and tags stay', async () => {
      const target = (await mkdir('/mv/target')).json();
      const renamed = (await lookup('/mv/renamed')).json();
      const moved = await patch(renamed.id, { parentId: target.id, tags: ['moved'] });
      expect(moved.statusCode).toBe(200);
      expect(moved.json()).toMatchObject({ path: '/mv/target/renamed', parentId: target.id, tags: ['moved'] });
      const clip = (await lookup('/mv/target/renamed/deep/clip.mp4')).json();
      expect((await get(`/nodes/${clip.id}/content`)).body).toBe('bytes');
      const toRoot = await patch(clip.id, { parentId: null, name: 'top-clip.mp4', metadata: { fps: 30 } });
      expect(toRoot.json()).toMatchObject({ id: clip.id, path: '/top-clip.mp4', parentId: null, metadata: { fps: 30 }, sha256: clip.sha256 });
      expect((await patch(clip.id, {})).json().path).toBe('/top-clip.mp4');
    });

    it('refuses a name clash (409), a move under itself or under a file (400), bad names (400)', async () => {
      const a = (await mkdir('/clash/a')).json();
      const b = (await mkdir('/clash/b')).json();
      const inner = (await mkdir('/clash/a/inner/deeper')).json();
      const file = (await put('clash/f.txt')).json();
      const clash = await patch(b.id, { name: 'a' });
      expect(clash.statusCode).toBe(409);
      expect(clash.json().error).toBe('conflict');
      expect((await patch(file.id, { parentId: a.id, name: 'inner' })).statusCode).toBe(409);
      const under = await patch(a.id, { parentId: inner.id });
      expect(under.statusCode).toBe(400);
      expect(under.json().error).toBe('invalid_move');
      expect((await patch(a.id, { parentId: a.id })).statusCode).toBe(400);
      expect((await patch(b.id, { parentId: file.id })).json().error).toBe('not_a_folder');
      expect((await patch(b.id, { parentId: 'unknown' })).statusCode).toBe(400);
      for (const name of ['..', 'x/y', 'a\\b', '.', '']) expect((await patch(b.id, { name })).statusCode).toBe(400);
      expect((await patch(b.id, { bogus: 1 })).statusCode).toBe(400);
      expect((await patch('unknown', { name: 'z' })).statusCode).toBe(404);
      expect((await lookup('/clash/a/inner/deeper')).json().id).toBe(inner.id);
      expect((await lookup('/clash/b')).json().id).toBe(b.id);
    });
  });

  describe('DELETE /nodes/:id', () => {
    it('soft-deletes the subtree, frees the names and takes the files out of every collection', async () => {
      const gone = (await put('del/sub/one.mp4', '1')).json();
      const gone2 = (await put('del/two.wav', '2')).json();
      const kept = (await put('keep/three.png', '3')).json();
      const collection = async (name: string, members: string[]) =>
        t.inject({ method: 'POST', url: `${base}/collections`, headers: alice, payload: { name, members } });
      expect((await collection('c1', [gone.id, kept.id, gone2.id])).statusCode).toBe(201);
      expect((await collection('c2', [gone2.id])).statusCode).toBe(201);

      const folder = (await lookup('/del')).json();
      const touched = (await get('/collections/c2')).json().updatedAt;
      const res = await del(folder.id);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ success: true, deleted: 4 });
      for (const id of [folder.id, gone.id, gone2.id]) expect((await get(`/nodes/${id}`)).statusCode).toBe(404);
      expect((await lookup('/del/sub/one.mp4')).statusCode).toBe(404);
      expect((await del(folder.id)).statusCode).toBe(404);

      const c1 = (await get('/collections/c1?expand=nodes')).json();
      expect(c1.members).toEqual([kept.id]);
      expect(c1.nodes).toEqual([{ id: kept.id, path: '/keep/three.png', kind: 'image', size: 1, contentType: 'image/png' }]);
      const c2 = (await get('/collections/c2')).json();
      expect(c2.members).toEqual([]);
      expect(c2.updatedAt > touched).toBe(true);

      const again = await mkdir('/del/sub');
      expect(again.statusCode).toBe(201);
      expect(again.json().id).not.toBe(folder.id);
    });

    it('deleting a single file answers deleted: 1', async () => {
      const file = (await put('single.txt')).json();
      expect((await del(file.id)).json()).toEqual({ success: true, deleted: 1 });
    });
  });

  describe('collections point at live files', () => {
    it('refuses unknown, deleted, inner and foreign IDs with a 400 that lists them, changing nothing', async () => {
      const ok = (await put('members/ok.mp4')).json();
      const folder = (await lookup('/members')).json();
      const deleted = (await put('members/deleted.mp4')).json();
      await del(deleted.id);
      const foreign = (await put('x.mp4', 'x', {}, '/namespaces/alice/projects/other')).json();
      const res = await t.inject({
        method: 'POST',
        url: `${base}/collections`,
        headers: alice,
        payload: { name: 'bad', members: [ok.id, 'unknown-id', deleted.id, folder.id, foreign.id] },
      });
      expect(res.statusCode).toBe(400);
      for (const id of ['unknown-id', deleted.id, folder.id, foreign.id]) expect(res.json().message).toContain(id);
      expect(res.json().message).not.toContain(ok.id);
      expect((await get('/collections/bad')).statusCode).toBe(404);
    });

    it('expand=nodes returns the member nodes in member order', async () => {
      const a = (await put('exp/a.mp4', 'aaaa', { 'content-type': 'video/mp4' })).json();
      const b = (await put('exp/b.txt', 'bb')).json();
      await t.inject({ method: 'POST', url: `${base}/collections`, headers: alice, payload: { name: 'exp', members: [b.id, a.id] } });
      const res = (await get('/collections/exp?expand=nodes')).json();
      expect(res.nodes).toEqual([
        { id: b.id, path: '/exp/b.txt', kind: 'text', size: 2, contentType: 'text/plain' },
        { id: a.id, path: '/exp/a.mp4', kind: 'video', size: 4, contentType: 'video/mp4' },
      ]);
    });
  });

  it('every total stays exact through the creates, uploads, moves, renames and deletes above', async () => {
    const check = async (parentId?: string): Promise<number> => {
      const res = (await get(`/nodes?pageSize=200${parentId ? `&parentId=${parentId}` : ''}`)).json();
      expect(res.nodes.length).toBeLessThan(200);
      expect(res.total).toBe(res.nodes.length);
      let folders = 1;
      for (const n of res.nodes as Node[]) if (!n.leaf) folders += await check(n.id);
      return folders;
    };
    expect(await check()).toBeGreaterThan(20);
  });

  it('GET /namespaces/:slug reports projects and live assets per kind', async () => {
    await t.inject({ method: 'POST', url: '/namespaces', headers: alice, payload: { slug: 'counting' } });
    const at = '/namespaces/counting/projects/p';
    await t.inject({ method: 'POST', url: '/namespaces/counting/projects', headers: alice, payload: { name: 'P' } });
    await t.inject({ method: 'POST', url: '/namespaces/counting/projects', headers: alice, payload: { name: 'Gone' } });
    await put('a.mp4', 'a', {}, at);
    await put('b.mp4', 'b', {}, at);
    await put('c.wav', 'c', {}, at);
    const dropped = (await put('d.png', 'd', {}, at)).json();
    await t.inject({ method: 'DELETE', url: `${at}/nodes/${dropped.id}`, headers: alice });
    await put('e.mp4', 'e', {}, '/namespaces/counting/projects/gone');
    await t.inject({ method: 'DELETE', url: '/namespaces/counting/projects/gone', headers: alice });
    const res = await t.inject({ method: 'GET', url: '/namespaces/counting', headers: alice });
    expect(res.json()).toMatchObject({ projects: 1, assets: { video: 2, audio: 1, image: 0, text: 0, file: 0 } });
  });

  describe('access', () => {
    beforeAll(async () => {
      await t.inject({ method: 'GET', url: '/auth/me', headers: bob }); // users appear on first sign-in
      await t.inject({ method: 'POST', url: '/namespaces', headers: alice, payload: { slug: 'shared' } });
      await t.inject({ method: 'POST', url: '/namespaces/shared/projects', headers: alice, payload: { name: 'S' } });
      await t.inject({ method: 'PUT', url: '/namespaces/shared/members/bob', headers: alice, payload: { role: 'read' } });
    });
    const at = '/namespaces/shared/projects/s';

    it('needs a token (401); outsiders get 404 everywhere', async () => {
      expect((await t.inject({ method: 'GET', url: `${base}/nodes` })).statusCode).toBe(401);
      expect((await t.inject({ method: 'PUT', url: `${base}/files/x.txt`, payload: 'x' })).statusCode).toBe(401);
      expect((await t.inject({ method: 'GET', url: `${base}/nodes`, headers: bob })).statusCode).toBe(404);
      expect((await mkdir('/x', {}, bob)).statusCode).toBe(404);
      expect((await t.inject({ method: 'GET', url: '/namespaces/alice/projects/nope/nodes', headers: alice })).statusCode).toBe(404);
    });

    it('readers read (200) but may not write (403)', async () => {
      const file = (await put('r.txt', 'r', {}, at)).json();
      expect((await t.inject({ method: 'GET', url: `${at}/nodes`, headers: bob })).statusCode).toBe(200);
      expect((await t.inject({ method: 'GET', url: `${at}/nodes/${file.id}/content`, headers: bob })).body).toBe('r');
      expect((await mkdir('/x', {}, bob, at)).statusCode).toBe(403);
      expect((await t.inject({ method: 'PUT', url: `${at}/files/x.txt`, headers: bob, payload: 'x' })).statusCode).toBe(403);
      expect((await t.inject({ method: 'PATCH', url: `${at}/nodes/${file.id}`, headers: bob, payload: { name: 'y' } })).statusCode).toBe(403);
      expect((await t.inject({ method: 'DELETE', url: `${at}/nodes/${file.id}`, headers: bob })).statusCode).toBe(403);
      expect((await t.inject({ method: 'GET', url: `${at}/nodes/${file.id}`, headers: bob })).json().name).toBe('r.txt');
    });
  });
});
