import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../src/core/auth/jwt.js';
import { createTestApp, DIALECTS, TEST_JWT_SECRET, type TestApp } from '../helpers/app.js';
import { CliError, OriginalCli, PART_SIZE } from '../helpers/original-cli.js';

// The recorded request sequences of the original DreamLake CLI (ORIGINAL-CLIENT-PROTOCOL.md §5–§6), replayed
// command by command against the real server, reading every field the protocol says the CLI reads.

for (const dialect of DIALECTS) {
  describe(`original DreamLake CLI, replayed (${dialect})`, () => {
    let t: TestApp;
    let cli: OriginalCli;

    beforeAll(async () => {
      t = await createTestApp(dialect);
      cli = new OriginalCli(t, await signToken(TEST_JWT_SECRET, 'alice', 1));
    });
    afterAll(async () => t?.close());

    it('login --token: GET /auth/me gives the namespace slug', async () => {
      expect(await cli.login()).toBe('alice');
      expect(cli.sent).toEqual(['GET /auth/me']);
    });

    it('create / list / update project, with visibility, bindrCount and datasetCount', async () => {
      expect(await cli.createProject('Robotics Lab', { slug: 'robotics-lab', description: 'drives', tags: ['a', 'b'] })).toMatchObject({ slug: 'robotics-lab', visibility: 'private' });
      expect(await cli.createProject('Open Data', { visibility: 'public' })).toMatchObject({ slug: 'open-data', visibility: 'public' });
      await expect(cli.createProject('Robotics Lab', { slug: 'robotics-lab' })).rejects.toMatchObject({ status: 409 });
      const projects = await cli.listProjects();
      expect(projects.map((p) => [p.slug, p.visibility, p.bindrCount, p.datasetCount])).toEqual([
        ['open-data', 'public', 0, 0],
        ['robotics-lab', 'private', 0, 0],
      ]);
      expect(await cli.updateProject('open-data', { visibility: 'private', tags: [] })).toEqual({ visibility: 'private' });
      expect(await cli.updateProject('open-data', { visibility: 'public' })).toEqual({ visibility: 'public' });
      await expect(cli.updateProject('nope', { name: 'x' })).rejects.toMatchObject({ status: 404 });
    });

    it('upload of one file: init, parts, PUT, complete, POST /files, POST /nodes; the node is there in the dialect', async () => {
      const start = cli.sent.length;
      const bytes = Buffer.from('hello\n');
      const id = await cli.upload({ name: 'a.txt', bytes }, { project: 'robotics-lab', to: '/docs' });
      expect(cli.sent.slice(start).map((s) => s.split('?')[0])).toEqual([
        'POST /files/upload/multipart/init',
        'POST /files/upload/multipart/parts',
        'PUT <part 1>',
        'POST /files/upload/multipart/complete',
        'POST /files',
        'POST /nodes',
      ]);
      const res = await t.inject({ method: 'GET', url: `/nodes/${id}`, headers: await t.auth('alice') });
      expect(res.json()).toMatchObject({
        id, name: 'a.txt', path: ',robotics-lab,docs,', kind: 'text', episodeNodeId: null,
        metadata: { size: 6, hash: '5891b5b522d5df08', contentType: 'text/plain' },
      });
      // Again to the same path: same node ID, new content.
      const again = await cli.upload({ name: 'a.txt', bytes: Buffer.from('hello again\n') }, { project: 'robotics-lab', to: '/docs' });
      expect(again).toBe(id);
      expect((await cli.download({ project: 'robotics-lab', from: '/docs/a.txt' })).get('a.txt')!.toString()).toBe('hello again\n');
    });

    it('upload into an episode makes the episode at the project root; --type and --bindr', async () => {
      const clip = randomBytes(3000);
      const id = await cli.upload({ name: 'clip.mp4', bytes: clip }, { project: 'robotics-lab', episode: 'drive-0412', to: '/camera/front', bindr: 'best' });
      await cli.upload({ name: 'labels.jsonl', bytes: Buffer.from('{}\n') }, { project: 'robotics-lab', episode: 'drive-0412', to: '/', type: 'label-track', bindr: 'best' });
      const episodes = await cli.listEpisodes('robotics-lab');
      expect(episodes).toEqual([expect.objectContaining({ name: 'drive-0412', nodePath: '/robotics-lab/drive-0412', status: 'running', tags: [] })]);
      const node = (await t.inject({ method: 'GET', url: `/nodes/${id}`, headers: await t.auth('alice') })).json();
      expect(node).toMatchObject({ path: ',robotics-lab,drive-0412,camera,front,', name: 'clip.mp4', kind: 'video', episodeNodeId: episodes![0].id });
      const bindrs = await cli.listBindrs('robotics-lab');
      expect(bindrs).toEqual([expect.objectContaining({ name: 'best', members: [id, expect.any(String)] })]);
    });

    it('upload of a folder: the files directly in it, in name order, each the whole sequence', async () => {
      const files = [
        { name: 'b.csv', bytes: Buffer.from('x,y\n1,2\n') },
        { name: 'a.parquet', bytes: randomBytes(100) },
        { name: 'c.npy', bytes: Buffer.alloc(0) },
      ];
      const start = cli.sent.length;
      const ids = await cli.uploadFolder(files, { project: 'robotics-lab', to: '/tables' });
      expect(ids).toHaveLength(3);
      expect(cli.sent.slice(start).filter((s) => s === 'POST /nodes')).toHaveLength(3);
      const rows = await cli.list({ project: 'robotics-lab', prefix: '/tables' });
      expect(rows).toEqual([
        { path: 'tables/a.parquet', kind: 'parquet', size: 100 },
        { path: 'tables/b.csv', kind: 'csv', size: 8 },
        { path: 'tables/c.npy', kind: 'npy', size: 0 },
      ]);
    });

    it('resume after a failed part: the re-run asks parts-done and sends only the missing part', async () => {
      const big = randomBytes(2 * PART_SIZE + 1000); // 3 parts
      cli.failParts.add(2);
      await expect(cli.upload({ name: 'long.mp4', bytes: big }, { project: 'robotics-lab', episode: 'drive-0412', to: '/' })).rejects.toThrow(/part 2 PUT failed \(500\)/);
      expect(cli.uploads.size).toBe(1); // the state file stays
      const start = cli.sent.length;
      const id = await cli.upload({ name: 'long.mp4', bytes: big }, { project: 'robotics-lab', episode: 'drive-0412', to: '/' });
      expect(cli.sent.slice(start).map((s) => s.split('?')[0])).toEqual([
        'GET /files/upload/multipart/parts-done',
        'POST /files/upload/multipart/parts',
        'PUT <part 2>',
        'POST /files/upload/multipart/complete',
        'POST /files',
        'POST /nodes',
      ]);
      const got = await cli.download({ project: 'robotics-lab', episode: 'drive-0412', from: '/long.mp4' });
      expect(got.get('long.mp4')!.equals(big)).toBe(true);
      expect(id).toEqual(expect.any(String));
    });

    it('the upload state is keyed by content: a re-run into another project resumes and lands there', async () => {
      await cli.createProject('Other');
      const bytes = randomBytes(PART_SIZE + 10); // 2 parts
      cli.failParts.add(1);
      await expect(cli.upload({ name: 'x.bin', bytes }, { project: 'robotics-lab', to: '/' })).rejects.toThrow(/part 1 PUT failed/);
      const start = cli.sent.length;
      await cli.upload({ name: 'x.bin', bytes }, { project: 'other', to: '/in' });
      expect(cli.sent.slice(start).filter((s) => s.startsWith('PUT'))).toEqual(['PUT <part 1>']);
      expect(await cli.list({ project: 'other' })).toEqual([{ path: 'in/x.bin', kind: 'file', size: PART_SIZE + 10 }]);
      expect(await cli.deleteProject('other')).toBe(3);
    });

    it('list (assets): project and episode scope, --prefix and --type', async () => {
      const all = await cli.list({ project: 'robotics-lab' });
      expect(all.map((r) => r.path)).toEqual([
        'docs/a.txt',
        'drive-0412/camera/front/clip.mp4',
        'drive-0412/labels.jsonl',
        'drive-0412/long.mp4',
        'tables/a.parquet',
        'tables/b.csv',
        'tables/c.npy',
      ]);
      expect((await cli.list({ project: 'robotics-lab', episode: 'drive-0412' })).map((r) => r.path)).toEqual(['camera/front/clip.mp4', 'labels.jsonl', 'long.mp4']);
      expect((await cli.list({ project: 'robotics-lab', type: 'video' })).map((r) => r.path)).toEqual(['drive-0412/camera/front/clip.mp4', 'drive-0412/long.mp4']);
      expect((await cli.list({ project: 'robotics-lab', episode: 'drive-0412', type: 'label-track' }))).toEqual([{ path: 'labels.jsonl', kind: 'label-track', size: 3 }]);
      expect(await cli.list({ project: 'robotics-lab', prefix: '/drive-0412/camera' })).toHaveLength(1);
      await expect(cli.list({ project: 'robotics-lab', episode: 'nope' })).rejects.toThrow("episode 'nope' not found");
    });

    it('download of a folder and of an episode keeps the tree; --from / is the whole scope', async () => {
      const folder = await cli.download({ project: 'robotics-lab', from: '/tables' });
      expect([...folder.keys()]).toEqual(['tables/a.parquet', 'tables/b.csv', 'tables/c.npy']);
      expect(folder.get('tables/b.csv')!.toString()).toBe('x,y\n1,2\n');
      const episode = await cli.download({ project: 'robotics-lab', from: '/drive-0412' });
      expect([...episode.keys()]).toEqual(['drive-0412/camera/front/clip.mp4', 'drive-0412/labels.jsonl', 'drive-0412/long.mp4']);
      const scope = await cli.download({ project: 'robotics-lab', episode: 'drive-0412', from: '/' });
      expect([...scope.keys()]).toEqual([...episode.keys()]);
      await expect(cli.download({ project: 'robotics-lab', from: '/nope.txt' })).rejects.toThrow('asset not found at /nope.txt');
    });

    it('bindrs: create, create --episode, update --add/--remove/--description, list, delete', async () => {
      await cli.createBindr('robotics-lab', 'empty', { description: 'nothing yet', tags: ['t'] });
      await expect(cli.createBindr('robotics-lab', 'empty')).rejects.toMatchObject({ status: 409 });
      await cli.createBindr('robotics-lab', 'drives', { episodeGlob: 'drive-*' });
      expect(await cli.updateBindr('robotics-lab', 'empty', { add: 'robotics-lab/drive-0412', description: 'one drive' })).toBe(1);
      let bindrs = await cli.listBindrs('robotics-lab');
      expect(bindrs!.map((b) => [b.name, (b.members as string[]).length, b.description])).toEqual([
        ['drives', 1, null],
        ['empty', 1, 'one drive'],
        ['best', 2, null],
      ]);
      expect(await cli.updateBindr('robotics-lab', 'empty', { remove: 'drive-0412' })).toBe(0);
      await expect(cli.updateBindr('robotics-lab', 'nope', { add: 'drive-*' })).rejects.toMatchObject({ status: 404 });
      await cli.deleteBindr('robotics-lab', 'empty');
      bindrs = await cli.listBindrs('robotics-lab');
      expect(bindrs!.map((b) => b.name)).toEqual(['drives', 'best']);
      expect(await cli.listBindrs('nope')).toBeNull(); // "(project not found)", exit 0
    });

    it('datasets: create, update --add/--remove (bindrs by glob), list with bindrs, delete', async () => {
      await cli.createDataset('robotics-lab', 'train', { description: 'v1', tags: ['q1'] });
      await expect(cli.createDataset('robotics-lab', 'train')).rejects.toMatchObject({ status: 409 });
      expect(await cli.updateDataset('robotics-lab', 'train', { add: '*' })).toEqual({ added: 2, total: 2 });
      let datasets = await cli.listDatasets('robotics-lab');
      expect(datasets!.map((d) => [d.name, (d.bindrs as unknown[]).length])).toEqual([['train', 2]]);
      expect(await cli.updateDataset('robotics-lab', 'train', { remove: 'best', tags: ['q2'] })).toEqual({ removed: 1, total: 1 });
      datasets = await cli.listDatasets('robotics-lab');
      expect(datasets![0]).toMatchObject({ bindrs: [{ name: 'drives' }], tags: ['q2'] });
      expect((await cli.listProjects()).find((p) => p.slug === 'robotics-lab')).toMatchObject({ bindrCount: 2, datasetCount: 1 });
      await cli.deleteDataset('robotics-lab', 'train');
      expect(await cli.listDatasets('robotics-lab')).toEqual([]);
    });

    it('delete file, delete episode (it leaves its bindrs), delete project', async () => {
      expect(await cli.deleteFile({ project: 'robotics-lab', path: '/docs/a.txt' })).toBe(1);
      await expect(cli.deleteFile({ project: 'robotics-lab', path: '/docs/a.txt' })).rejects.toThrow('nothing found at /docs/a.txt');
      expect(await cli.deleteFile({ project: 'robotics-lab', path: '/tables' })).toBe(4);
      const episodeId = (await cli.listEpisodes('robotics-lab'))![0].id;
      expect(await cli.deleteEpisode('robotics-lab', 'drive-0412')).toBe(6); // episode, folder camera/front, 3 files
      expect(await cli.listEpisodes('robotics-lab')).toEqual([]);
      const bindrs = await cli.listBindrs('robotics-lab');
      expect(bindrs!.every((b) => !(b.members as string[]).includes(episodeId as string))).toBe(true);
      expect(bindrs!.map((b) => (b.members as string[]).length)).toEqual([0, 0]);
      expect(await cli.deleteProject('open-data')).toBe(1);
      expect((await cli.listProjects()).map((p) => p.slug)).toEqual(['robotics-lab']);
      await expect(cli.deleteProject('open-data')).rejects.toThrow("project 'open-data' not found in namespace alice");
    });

    it('errors carry a JSON body the CLI can print', async () => {
      const err = await cli.createProject('', {}).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CliError);
      expect((err as CliError).message).toMatch(/^\(400\) /);
    });
  });
}
