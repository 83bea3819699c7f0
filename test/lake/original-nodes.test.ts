import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../src/core/auth/jwt.js';
import { createTestApp, DIALECTS, TEST_JWT_SECRET, type TestApp } from '../helpers/app.js';
import { hash16, OriginalCli } from '../helpers/original-cli.js';

// The flat node routes of the original clients: their dialect, and the same tenancy as every other route
// (outsider 404, reader 403 on writes, no token 401, public projects readable but never writable by
// strangers, namespace/project parameters that disagree with a node ID → 404).

type Headers = Record<string, string>;

for (const dialect of DIALECTS) {
  describe(`original clients' flat node routes (${dialect})`, () => {
    let t: TestApp;
    let alice: Headers;
    let bob: Headers; // signed in, no member of "team"
    let carol: Headers; // reader of "team"
    const ids: Record<string, string> = {};

    const call = (method: string, url: string, headers: Headers | undefined, payload?: unknown) =>
      t.inject({ method: method as 'GET', url, headers: headers ?? {}, ...(payload === undefined ? {} : { payload: payload as object }) });

    beforeAll(async () => {
      t = await createTestApp(dialect);
      alice = await t.auth('alice');
      bob = await t.auth('bob');
      carol = await t.auth('carol');
      for (const h of [bob, carol]) await call('GET', '/auth/me', h);
      await call('POST', '/namespaces', alice, { slug: 'team' });
      await call('PUT', '/namespaces/team/members/carol', alice, { role: 'read' });
      for (const [name, visibility] of [['Lab', 'private'], ['Open', 'public']]) {
        ids[name.toLowerCase()] = (await call('POST', '/namespaces/team/projects', alice, { name, visibility })).json().id;
      }
      ids.mine = (await call('POST', '/namespaces/alice/projects', alice, { name: 'Mine' })).json().id;
      const cli = new OriginalCli(t, await signToken(TEST_JWT_SECRET, 'alice', 1));
      cli.namespace = 'team';
      ids.file = await cli.upload({ name: 'a.txt', bytes: Buffer.from('hello\n') }, { project: 'lab', to: '/docs' });
      ids.clip = await cli.upload({ name: 'clip.mp4', bytes: Buffer.from('not really a video') }, { project: 'lab', episode: 'run-1', to: '/camera/front' });
      ids.track = await cli.upload({ name: 'labels.jsonl', bytes: Buffer.from('{}\n') }, { project: 'lab', episode: 'run-1', to: '/', type: 'label-track' });
      ids.open = (await call('GET', '/nodes/lookup?namespace=team&project=open&path=/', alice)).json().id;
      ids.openFile = await cli.upload({ name: 'pub.txt', bytes: Buffer.from('public\n') }, { project: 'open', to: '/' });
      cli.namespace = 'alice';
      ids.mineFile = await cli.upload({ name: 'a.txt', bytes: Buffer.from('hello\n') }, { project: 'mine', to: '/docs' });
    });
    afterAll(async () => t?.close());

    it('GET /nodes/:id, lookup and list answer in the dialect: comma paths, name, episodeNodeId, metadata', async () => {
      const episode = (await call('GET', '/nodes/lookup?namespace=team&project=lab&path=/&episode=run-1', alice)).json();
      expect(episode).toMatchObject({ kind: 'episode', name: 'run-1', path: ',lab,', nodePath: '/lab/run-1', episodeNodeId: episode.id });
      const clip = (await call('GET', `/nodes/${ids.clip}`, alice)).json();
      expect(clip).toMatchObject({
        id: ids.clip, name: 'clip.mp4', path: ',lab,run-1,camera,front,', kind: 'video', episodeNodeId: episode.id,
        metadata: { size: 18, hash: hash16(Buffer.from('not really a video')), contentType: 'video/mp4' },
      });
      expect((await call('GET', '/nodes/lookup?namespace=team&project=lab&path=%2Fcamera%2Ffront%2Fclip.mp4&episode=run-1', alice)).json().id).toBe(ids.clip);
      expect((await call('GET', '/nodes/lookup?namespace=team&project=lab&path=/run-1/camera', alice)).json()).toMatchObject({ kind: 'folder', name: 'camera', path: ',lab,run-1,' });
      expect((await call('GET', '/nodes/lookup?namespace=team&project=lab&path=/', alice)).json()).toMatchObject({ id: ids.lab, kind: 'project', name: 'lab' });
      expect((await call('GET', `/nodes/${ids.lab}`, alice)).json()).toMatchObject({ id: ids.lab, kind: 'project' });
      expect((await call('GET', '/nodes/lookup?namespace=team&project=lab&path=/nope', alice)).statusCode).toBe(404);
      expect((await call('GET', '/nodes/lookup?namespace=team&project=lab&path=/&episode=nope', alice)).statusCode).toBe(404);

      const list = (await call('GET', '/nodes?namespace=team&project=lab', alice)).json();
      expect(list.nodes.map((n: { name: string }) => n.name)).toEqual(['docs', 'a.txt', 'run-1', 'camera', 'front', 'clip.mp4', 'labels.jsonl']);
      expect(list).toMatchObject({ total: 7, totalPages: 1 });
      for (const n of list.nodes) expect(Object.keys(n)).toEqual(expect.arrayContaining(['id', 'name', 'kind', 'episodeNodeId', 'metadata']));
      const inEpisode = (await call('GET', '/nodes?namespace=team&project=lab&episode=run-1&kind=label-track', alice)).json();
      expect(inEpisode.nodes).toEqual([expect.objectContaining({ id: ids.track, kind: 'label-track', episodeNodeId: episode.id })]);
      const prefixed = (await call('GET', '/nodes?namespace=team&project=lab&episode=run-1&prefix=camera%2Ffr', alice)).json();
      expect(prefixed.nodes.map((n: { name: string }) => n.name)).toEqual(['front', 'clip.mp4']);
      expect((await call('GET', '/nodes?namespace=team&project=lab&kind=episode', alice)).json().nodes).toEqual([expect.objectContaining({ name: 'run-1' })]);
      expect((await call('GET', '/nodes?namespace=team&project=lab&pageSize=2&page=2', alice)).json()).toMatchObject({ total: 7, totalPages: 4, nodes: [{ name: 'run-1' }, { name: 'camera' }] });
      expect((await call('GET', '/nodes?namespace=team&project=lab&kind=Not%20a%20kind', alice)).json().nodes).toEqual([]); // kinds are free-form here
      expect((await call('GET', `/nodes?namespace=team&project=lab&kind=${'k'.repeat(65)}`, alice)).statusCode).toBe(400);
      expect((await call('GET', '/nodes?project=lab', alice)).statusCode).toBe(400);
    });

    it('GET /nodes/:id/contents: files below, recursively, by path, paged up to 500, kind filter', async () => {
      const all = (await call('GET', `/nodes/${ids.lab}/contents?page=1&pageSize=500`, alice)).json();
      expect(all.files.map((f: { name: string; path: string }) => f.path + f.name)).toEqual([',lab,docs,a.txt', ',lab,run-1,camera,front,clip.mp4', ',lab,run-1,labels.jsonl']);
      expect(all.filePageCount).toBe(1);
      expect(all.files[0]).toMatchObject({ id: ids.file, kind: 'text', metadata: { size: 6, hash: '5891b5b522d5df08', contentType: 'text/plain' }, createdAt: expect.any(String) });
      const paged = (await call('GET', `/nodes/${ids.lab}/contents?page=2&pageSize=2`, alice)).json();
      expect(paged).toMatchObject({ filePageCount: 2, files: [{ name: 'labels.jsonl' }] });
      const episode = (await call('GET', '/nodes/lookup?namespace=team&project=lab&path=/run-1', alice)).json();
      expect((await call('GET', `/nodes/${episode.id}/contents?kind=video`, alice)).json().files).toEqual([expect.objectContaining({ id: ids.clip })]);
      expect((await call('GET', `/nodes/${ids.lab}/contents?pageSize=501`, alice)).statusCode).toBe(400);
      expect((await call('GET', `/nodes/${ids.file}/contents`, alice)).statusCode).toBe(400);
      expect((await call('GET', '/nodes/unknown/contents', alice)).statusCode).toBe(404);
    });

    it('POST /nodes refuses what PUT …/files refuses: bad paths, container kinds, unknown content, a file in the way', async () => {
      const post = (body: object, h = alice) => call('POST', '/nodes', h, { namespace: 'team', project: 'lab', metadata: { hash: '5891b5b522d5df08' }, ...body });
      expect((await post({ name: '/' })).statusCode).toBe(400);
      expect((await post({ name: '/a/../b.txt' })).statusCode).toBe(400);
      expect((await post({ name: '/b.txt', kind: 'folder' })).statusCode).toBe(400);
      expect((await post({ name: '/b.txt', kind: 'line\nbreak' })).statusCode).toBe(400);
      expect((await post({ name: '/b.txt', kind: 'k'.repeat(65) })).statusCode).toBe(400);
      expect((await post({ name: '/docs/a.txt/b.txt' })).statusCode).toBe(409);
      const unknown = await post({ name: '/b.txt', metadata: { hash: '0000000000000000' } });
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json()).toMatchObject({ error: 'not_found' });
      expect((await post({ name: '/b.txt', metadata: { hash: '5891b5b522d5df08', size: 7 } })).statusCode).toBe(400);
      // bob never registered those bytes: a hash is not a capability
      await call('POST', '/namespaces/bob/projects', bob, { name: 'Bobs' });
      expect((await call('POST', '/nodes', bob, { namespace: 'bob', project: 'bobs', name: '/x.txt', metadata: { hash: '5891b5b522d5df08' } })).statusCode).toBe(404);
      const made = await post({ name: '/copies/a-copy.txt', kind: 'notes' });
      expect(made.statusCode).toBe(201);
      expect(made.json()).toMatchObject({ name: 'a-copy.txt', path: ',lab,copies,', kind: 'notes', episodeNodeId: null });
      expect((await post({ name: '/copies/a-copy.txt', kind: 'notes' })).statusCode).toBe(200);
      // `--type` is any string (ORIGINAL-CLIENT-PROTOCOL §4), and `list --type K` finds it again.
      const free = await post({ name: '/copies/free.txt', kind: 'Video Clip' });
      expect(free.statusCode).toBe(201);
      expect(free.json().kind).toBe('Video Clip');
      expect((await call('GET', `/nodes/${ids.lab}/contents?kind=${encodeURIComponent('Video Clip')}`, alice)).json().files).toEqual([expect.objectContaining({ id: free.json().id })]);
      expect((await call('GET', `/nodes/${ids.lab}/contents?kind=Nothing`, alice)).json().files).toEqual([]);
      expect((await call('GET', `/namespaces/team/projects/lab/nodes/${ids.lab}/descendants?kind=${encodeURIComponent('Video Clip')}`, alice)).statusCode).toBeLessThan(500);
      // The node is one of ours: the project-scoped routes see it with its slash path.
      expect((await call('GET', `/namespaces/team/projects/lab/nodes/${made.json().id}`, alice)).json()).toMatchObject({ path: '/copies/a-copy.txt', kind: 'notes', size: 6 });
    });

    it('tenancy: outsider 404, reader 403 on writes, no token 401', async () => {
      const reads = [
        `/nodes/${ids.file}`,
        `/nodes/${ids.lab}`,
        `/nodes/${ids.lab}/contents`,
        '/nodes/lookup?namespace=team&project=lab&path=/docs/a.txt',
        '/nodes?namespace=team&project=lab',
        `/nodes/${ids.file}/download`,
      ];
      for (const url of reads) {
        expect((await call('GET', url, undefined)).statusCode, url).toBe(401);
        expect((await call('GET', url, bob)).statusCode, url).toBe(404);
        expect((await call('GET', url, carol)).statusCode, url).toBe(200);
      }
      const writes: [string, string, object?][] = [
        ['POST', '/nodes', { namespace: 'team', project: 'lab', name: '/r.txt', metadata: { hash: '5891b5b522d5df08' } }],
        ['DELETE', `/nodes/${ids.file}`],
        ['DELETE', `/nodes/${ids.lab}`],
      ];
      for (const [method, url, body] of writes) {
        expect((await call(method, url, undefined, body)).statusCode, url).toBe(401);
        expect((await call(method, url, bob, body)).statusCode, url).toBe(404);
        expect((await call(method, url, carol, body)).statusCode, url).toBe(403);
      }
      // The bodies of the refusals are JSON.
      expect((await call('DELETE', `/nodes/${ids.file}`, carol)).json()).toMatchObject({ error: 'forbidden' });
      expect((await call('GET', `/nodes/${ids.file}`, alice)).statusCode).toBe(200);
    });

    it('namespace/project parameters that disagree with a node ID are a 404, never the other node', async () => {
      for (const query of ['namespace=team&project=open', 'namespace=alice&project=lab', 'project=mine', 'namespace=alice']) {
        expect((await call('GET', `/nodes/${ids.file}?${query}`, alice)).statusCode, query).toBe(404);
        expect((await call('GET', `/nodes/${ids.lab}/contents?${query}`, alice)).statusCode, query).toBe(404);
        expect((await call('DELETE', `/nodes/${ids.file}?${query}`, alice)).statusCode, query).toBe(404);
      }
      expect((await call('GET', `/nodes/${ids.file}?namespace=team&project=lab`, alice)).json().id).toBe(ids.file);
      // alice's own node of the same path in another project is never answered for these parameters
      expect((await call('GET', '/nodes/lookup?namespace=team&project=lab&path=/docs/a.txt', alice)).json().id).toBe(ids.file);
      expect((await call('GET', '/nodes/lookup?namespace=alice&project=mine&path=/docs/a.txt', alice)).json().id).toBe(ids.mineFile);
      expect((await call('GET', `/nodes/${ids.file}`, alice)).statusCode).toBe(200); // nothing was deleted
    });

    it('a public project is readable by every signed-in user, never writable, and listed for them', async () => {
      const listed = (await call('GET', '/namespaces/team/projects', bob)).json();
      expect(listed.projects.map((p: { slug: string }) => p.slug)).toEqual(['open']);
      expect(listed).toMatchObject({ total: 1, projects: [{ visibility: 'public', bindrCount: 0, datasetCount: 0 }] });
      expect((await call('GET', '/namespaces/team/projects', alice)).json().total).toBe(2);
      const base = '/namespaces/team/projects/open';
      for (const url of [base, `${base}/episodes`, `${base}/datasets`, `${base}/bindrs`, `${base}/collections`, `/nodes/${ids.open}/contents`, `/nodes/${ids.openFile}`, '/nodes?namespace=team&project=open', '/nodes/lookup?namespace=team&project=open&path=/pub.txt', `/nodes/${ids.openFile}/download`]) {
        expect((await call('GET', url, bob)).statusCode, url).toBe(200);
      }
      expect((await call('GET', `/nodes/${ids.open}/contents`, bob)).json().files).toEqual([expect.objectContaining({ id: ids.openFile })]);
      const link = new URL((await call('GET', `/nodes/${ids.openFile}/download`, bob)).json().url);
      expect((await call('GET', `${link.pathname}${link.search}`, undefined)).body).toBe('public\n');
      const writes: [string, string, object?][] = [
        ['PATCH', base, { visibility: 'private' }],
        ['DELETE', base],
        ['POST', `${base}/bindrs`, { name: 'mine' }],
        ['POST', `${base}/datasets`, { name: 'mine' }],
        ['POST', `${base}/episodes`, { name: 'mine' }],
        ['POST', '/nodes', { namespace: 'team', project: 'open', name: '/x.txt', metadata: { hash: '5891b5b522d5df08' } }],
        ['DELETE', `/nodes/${ids.openFile}`],
        ['DELETE', `/nodes/${ids.open}`],
      ];
      for (const [method, url, body] of writes) expect((await call(method, url, bob, body)).statusCode, `${method} ${url}`).toBe(403);
      // Still private: lab, and the namespace itself.
      expect((await call('GET', '/namespaces/team/projects/lab', bob)).statusCode).toBe(404);
      expect((await call('GET', '/namespaces/team', bob)).statusCode).toBe(404);

      // Made private again: gone for bob at once (the response cache never serves the old answer).
      expect((await call('PATCH', base, alice, { visibility: 'private' })).json().visibility).toBe('private');
      expect((await call('GET', '/namespaces/team/projects', bob)).statusCode).toBe(404);
      expect((await call('GET', base, bob)).statusCode).toBe(404);
      expect((await call('GET', `${base}/datasets`, bob)).statusCode).toBe(404);
      expect((await call('GET', `/nodes/${ids.openFile}`, bob)).statusCode).toBe(404);
      expect((await call('PATCH', base, alice, { visibility: 'public' })).json().visibility).toBe('public');
      expect((await call('GET', '/namespaces/team/projects', bob)).json().total).toBe(1);
      expect((await call('PATCH', base, alice, { visibility: 'secret' })).statusCode).toBe(400);
    });

    it('collection members may be episodes and files, never folders; deleting the episode takes it out', async () => {
      const episode = (await call('GET', '/nodes/lookup?namespace=team&project=lab&path=/run-1', alice)).json();
      const folder = (await call('GET', '/nodes/lookup?namespace=team&project=lab&path=/docs', alice)).json();
      const base = '/namespaces/team/projects/lab';
      const refused = await call('POST', `${base}/collections`, alice, { name: 'with-folder', members: [folder.id] });
      expect(refused.statusCode).toBe(400);
      expect(refused.json()).toMatchObject({ error: 'invalid_members' });
      expect((await call('POST', `${base}/collections`, alice, { name: 'mixed', members: [episode.id, ids.file] })).statusCode).toBe(201);
      expect((await call('GET', `${base}/bindrs/mixed`, alice)).json().members).toEqual([episode.id, ids.file]);
      expect((await call('GET', '/namespaces/team/spaces/lab/bindrs', alice)).json()).toMatchObject({ bindrs: [{ name: 'mixed' }], total: 1 });
      expect((await call('GET', `${base}/collections`, alice)).json()).toMatchObject({ collections: [{ name: 'mixed' }], total: 1 });
      await call('POST', `${base}/datasets`, alice, { name: 'ds' });
      expect((await call('POST', `${base}/datasets/ds/bindrs`, alice, { add: ['mixed'] })).json()).toEqual({ added: 1, total: 1 });
      const patched = (await call('PATCH', `${base}/datasets/ds`, alice, { description: 'with one bindr' })).json();
      expect(patched).toMatchObject({ description: 'with one bindr', bindrs: [{ name: 'mixed' }] });
      expect((await call('GET', `${base}/datasets/ds`, alice)).json()).toMatchObject({ bindrs: [{ name: 'mixed' }], collections: [{ name: 'mixed' }] });
      expect((await call('DELETE', `${base}/datasets/ds/collections`, alice, { remove: ['mixed'] })).json()).toEqual({ removed: 1, total: 0 });
      expect((await call('DELETE', `${base}/episodes/run-1`, alice)).json()).toMatchObject({ deleted: 5 }); // the episode, camera, front and two files
      expect((await call('GET', `${base}/collections/mixed`, alice)).json().members).toEqual([ids.file]);
    });

    it('a node route finds and authorizes its node in one SQL statement, with the same answers as before', async () => {
      const statementsOf = async (method: string, url: string, headers: Headers) => {
        const before = t.database.statements.count;
        const res = await call(method, url, headers);
        return [res.statusCode, t.database.statements.count - before];
      };
      const unknown = '01ARZ3NDEKTSV4RRFFQ69G5FAV';
      const lab = '/namespaces/team/projects/lab';
      // [method, url, [status, statements] for alice (owner), bob (stranger), carol (reader)]; the statements
      // beyond the first are the route's own work: the episode lookup of the presentation, the listing.
      const cases: [string, string, ...([number, number] | [])[]][] = [
        ['GET', `/nodes/${ids.file}`, [200, 2], [404, 1], [200, 2]],
        ['GET', `/nodes/${ids.lab}`, [200, 1], [404, 1], [200, 1]],
        ['GET', `/nodes/${ids.openFile}`, [200, 2], [200, 2], [200, 2]],
        ['GET', `/nodes/${ids.open}`, [200, 1], [200, 1], [200, 1]],
        ['GET', `/nodes/${ids.lab}/contents`, [200, 3], [404, 1], [200, 3]],
        ['GET', `/nodes/${ids.file}?namespace=team&project=open`, [404, 1], [404, 1], [404, 1]],
        ['GET', `/nodes/${unknown}`, [404, 1], [404, 1], [404, 1]],
        ['DELETE', `/nodes/${unknown}`, [404, 1], [404, 1], [404, 1]],
        ['DELETE', `/nodes/${ids.openFile}`, [], [403, 1], [403, 1]],
        ['DELETE', `/nodes/${ids.lab}`, [], [404, 1], [403, 1]],
        ['GET', `/nodes/${ids.file}/download`, [200, 1], [404, 1], [200, 1]],
        ['GET', `${lab}/nodes/${ids.file}`, [200, 1], [404, 1], [200, 1]],
        ['GET', `${lab}/nodes/${ids.file}/content`, [200, 1], [404, 1], [200, 1]],
        ['GET', `${lab}/nodes/${ids.file}/download`, [200, 1], [404, 1], [200, 1]],
        ['GET', `${lab}/nodes/${ids.file}/descendants`, [400, 1], [404, 1], [400, 1]],
        ['GET', `/namespaces/team/projects/open/nodes/${ids.file}`, [404, 1], [404, 1], [404, 1]],
        ['GET', `${lab}/nodes/${unknown}/content`, [404, 1], [404, 1], [404, 1]],
      ];
      for (const [method, url, ...expected] of cases) {
        for (const [i, headers] of [alice, bob, carol].entries()) {
          if (!expected[i]?.length) continue;
          expect(await statementsOf(method, url, headers), `${['alice', 'bob', 'carol'][i]} ${method} ${url}`).toEqual(expected[i]);
        }
      }
      const folder = (await call('GET', '/nodes/lookup?namespace=team&project=lab&path=/docs', alice)).json();
      expect(await statementsOf('GET', `${lab}/nodes/${folder.id}/descendants`, carol)).toEqual([200, 2]);
    });

    it('DELETE /nodes/{projectId} deletes the project and answers how many nodes went with it', async () => {
      const res = await call('DELETE', `/nodes/${ids.mine}`, alice);
      expect(res.json()).toEqual({ success: true, deleted: 3 }); // the project, /docs and /docs/a.txt
      expect((await call('GET', '/namespaces/alice/projects/mine', alice)).statusCode).toBe(404);
      expect((await call('GET', `/nodes/${ids.mine}`, alice)).statusCode).toBe(404);
      expect((await call('GET', `/nodes/${ids.mineFile}`, alice)).statusCode).toBe(404);
    });
  });
}
