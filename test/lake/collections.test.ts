import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DIALECTS, type TestApp } from '../helpers/app.js';
import { labProject } from '../helpers/lake.js';
import { memberIds } from '../helpers/members.js';

type Headers = Record<string, string>;
type Item = { name: string; members: string[]; datasetId: string | null };

describe.each(DIALECTS)('DreamLake collections (%s)', (dialect) => {
  let t: TestApp;
  let alice: Headers;
  let bob: Headers;
  let projectId: string;
  let datasetId: string;
  let otherDatasetId: string;
  const base = '/namespaces/alice/projects/lab';

  beforeAll(async () => {
    t = await createTestApp(dialect);
    ({ alice, bob, projectId } = await labProject(t));
    datasetId = (await call('POST', `${base}/datasets`, { name: 'training-v2' })).json().id;
    otherDatasetId = (await call('POST', `${base}/datasets`, { name: 'eval-set' })).json().id;
  });
  afterAll(async () => t.close());

  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, headers: Headers = alice) =>
    t.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
  const create = (body: unknown, headers = alice, root = base) => call('POST', `${root}/collections`, body, headers);
  const get = (name: string) => call('GET', `${base}/collections/${encodeURIComponent(name)}`);
  const total = async () => (await call('GET', `${base}/collections`)).json().total as number;
  const ids = (n: number) => memberIds(t, alice, 'alice', 'lab', n);

  it('creates a collection in a dataset with members: 201 with the documented fields, stored', async () => {
    const m = await ids(2);
    const res = await create({ name: 'front-camera-clips', datasetId, members: m, tags: ['cam'] });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toEqual({
      id: expect.any(String),
      name: 'front-camera-clips',
      description: null,
      tags: ['cam'],
      metadata: null,
      members: m,
      datasetId,
      projectId,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
      updatedAt: body.createdAt,
    });
    expect((await get('front-camera-clips')).json()).toEqual(body);
  });

  it('creates a standalone collection without members, or with datasetId null', async () => {
    const bare = await create({ name: 'standalone', description: 'loose', metadata: { k: 'v' } });
    expect(bare.statusCode).toBe(201);
    expect(bare.json()).toMatchObject({ members: [], datasetId: null, description: 'loose', metadata: { k: 'v' } });
    const explicit = await create({ name: 'standalone-null', datasetId: null });
    expect(explicit.json().datasetId).toBeNull();
  });

  it('de-duplicates initial members, keeping their first order', async () => {
    const [a, b, c] = await ids(3);
    const res = await create({ name: 'deduped', members: [c, a, c, b, a] });
    expect(res.json().members).toEqual([c, a, b]);
    expect((await get('deduped')).json().members).toEqual([c, a, b]);
  });

  it('answers 404 when datasetId is unknown, deleted or of another project, and stores nothing', async () => {
    await call('POST', '/namespaces/alice/projects', { name: 'Far' });
    const farDataset = (await call('POST', '/namespaces/alice/projects/far/datasets', { name: 'far-set' })).json().id;
    const gone = (await call('POST', `${base}/datasets`, { name: 'gone-set' })).json().id;
    await call('DELETE', `${base}/datasets/gone-set`);
    const before = await total();
    for (const id of ['no-such-dataset', farDataset, gone]) {
      const res = await create({ name: 'orphan', datasetId: id });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ error: 'not_found', message: expect.stringMatching(/dataset/i) });
    }
    expect(await total()).toBe(before);
    expect((await get('orphan')).statusCode).toBe(404);
  });

  it('answers 400 listing member IDs that are not valid, and stores nothing', async () => {
    const [good] = await ids(1);
    const long = 'x'.repeat(129);
    const before = await total();
    const res = await create({ name: 'bad-members', members: [good, '', long] });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('invalid_members');
    expect(res.json().message).toContain('""');
    expect(res.json().message).not.toContain(good);
    expect(await total()).toBe(before);
  });

  it('answers 409 on a live duplicate name; deleting frees it', async () => {
    expect((await create({ name: 'dup' })).statusCode).toBe(201);
    const again = await create({ name: 'dup', datasetId });
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toBe('conflict');
    expect((await call('DELETE', `${base}/collections/dup`)).json()).toEqual({ success: true });
    expect((await create({ name: 'dup' })).statusCode).toBe(201);
  });

  it('answers 404 for a missing namespace, project or collection', async () => {
    expect((await create({ name: 'x' }, alice, '/namespaces/nowhere/projects/lab')).json().message).toMatch(/namespace/i);
    expect((await create({ name: 'x' }, alice, '/namespaces/alice/projects/nothing')).json().message).toMatch(/project/i);
    for (const url of ['/namespaces/alice/projects/nothing/collections', '/namespaces/alice/projects/nothing/collections/x', `${base}/collections/none`]) {
      expect((await call('GET', url)).statusCode).toBe(404);
    }
    const res = await get('none');
    expect(res.json()).toEqual({ error: 'not_found', message: expect.stringMatching(/collection/i) });
    expect((await call('PATCH', `${base}/collections/none`, { name: 'y' })).statusCode).toBe(404);
    expect((await call('DELETE', `${base}/collections/none`)).statusCode).toBe(404);
  });

  it.each([
    ['name missing', {}],
    ['name empty', { name: '' }],
    ['name not a string', { name: 1 }],
    ['name too long', { name: 'x'.repeat(201) }],
    ['unknown field', { name: 'ok', owner: 'me' }],
    ['members not an array', { name: 'ok', members: 'a' }],
    ['members not strings', { name: 'ok', members: [1, 2] }],
    ['datasetId not a string', { name: 'ok', datasetId: 5 }],
    ['datasetId empty', { name: 'ok', datasetId: '' }],
    ['too many tags', { name: 'ok', tags: Array.from({ length: 51 }, (_, i) => `t${i}`) }],
    ['tag too long', { name: 'ok', tags: ['x'.repeat(65)] }],
    ['description too long', { name: 'ok', description: 'x'.repeat(10_001) }],
    ['metadata not an object', { name: 'ok', metadata: 'meta' }],
    ['metadata over 64 KiB', { name: 'ok', metadata: { blob: 'x'.repeat(70_000) } }],
    ['too many members', { name: 'ok', members: Array.from({ length: 10_001 }, (_, i) => `m${i}`) }],
  ])('rejects %s with 400 and stores nothing', async (_label, body) => {
    const before = await total();
    const res = await create(body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: expect.any(String), message: expect.any(String) });
    expect(await total()).toBe(before);
  });

  it('rejects malformed JSON with 400 invalid_json', async () => {
    const res = await t.inject({ method: 'POST', url: `${base}/collections`, headers: { ...alice, 'content-type': 'application/json' }, payload: '{"name":' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('invalid_json');
  });

  it('lists newest first with members, paginated, filtered by ?datasetId=', async () => {
    await call('POST', '/namespaces/alice/projects', { name: 'Listing' });
    const root = '/namespaces/alice/projects/listing';
    const ds = (await call('POST', `${root}/datasets`, { name: 'only' })).json().id;
    const m = await memberIds(t, alice, 'alice', 'listing', 2);
    for (let i = 0; i < 5; i++) await create({ name: `C${i}`, members: i === 3 ? m : [], ...(i % 2 ? { datasetId: ds } : {}) }, alice, root);
    await create({ name: 'deleted' }, alice, root);
    await call('DELETE', `${root}/collections/deleted`);

    const page2 = await call('GET', `${root}/collections?page=2&pageSize=2`);
    expect(page2.statusCode).toBe(200);
    expect(page2.json()).toMatchObject({ page: 2, pageSize: 2, total: 5, totalPages: 3 });
    expect(page2.json().collections.map((c: Item) => [c.name, c.members])).toEqual([['C2', []], ['C1', []]]);
    const first = (await call('GET', `${root}/collections`)).json();
    expect(first).toMatchObject({ page: 1, pageSize: 50, total: 5, totalPages: 1 });
    expect(first.collections.map((c: Item) => c.name)).toEqual(['C4', 'C3', 'C2', 'C1', 'C0']);
    expect(first.collections[1]).toMatchObject({ id: expect.any(String), name: 'C3', members: m, datasetId: ds, projectId: expect.any(String) });

    const filtered = (await call('GET', `${root}/collections?datasetId=${ds}`)).json();
    expect(filtered).toMatchObject({ total: 2, totalPages: 1 });
    expect(filtered.collections.map((c: Item) => c.name)).toEqual(['C3', 'C1']);
    expect((await call('GET', `${root}/collections?datasetId=${ds}&page=2&pageSize=1`)).json().collections.map((c: Item) => c.name)).toEqual(['C1']);
    expect((await call('GET', `${root}/collections?datasetId=unknown`)).json()).toEqual({ collections: [], page: 1, pageSize: 50, total: 0, totalPages: 0 });
    expect((await call('GET', `${root}/collections?page=7&pageSize=2`)).json()).toEqual({ collections: [], page: 7, pageSize: 2, total: 5, totalPages: 3 });
    expect((await call('GET', `${root}/collections?pageSize=1000`)).json().pageSize).toBe(200);
  });

  it('list totals follow every way collections and datasets come and go', async () => {
    await call('POST', '/namespaces/alice/projects', { name: 'Counting' });
    const root = '/namespaces/alice/projects/counting';
    const dataset = async (name: string) => (await call('POST', `${root}/datasets`, { name })).json().id as string;
    const [a, b] = [await dataset('A'), await dataset('B')];
    const names = async (query = '') => {
      const body = (await call('GET', `${root}/collections?pageSize=200${query}`)).json();
      expect(body.total).toBe(body.collections.length);
      return body.collections.map((c: Item) => c.name).sort();
    };
    const datasets = async () => {
      const body = (await call('GET', `${root}/datasets?pageSize=200`)).json();
      expect(body.total).toBe(body.datasets.length);
      return body.total;
    };
    for (const [name, datasetId] of [['c1', a], ['c2', a], ['c3', b], ['c4', null]]) await create({ name, datasetId }, alice, root);
    expect([await names(), await names(`&datasetId=${a}`), await names(`&datasetId=${b}`)]).toEqual([['c1', 'c2', 'c3', 'c4'], ['c1', 'c2'], ['c3']]);
    await call('PATCH', `${root}/collections/c1`, { datasetId: b });
    await call('PATCH', `${root}/collections/c2`, { datasetId: null, name: 'c2x' });
    expect([await names(`&datasetId=${a}`), await names(`&datasetId=${b}`)]).toEqual([[], ['c1', 'c3']]);
    await call('DELETE', `${root}/collections/c3`);
    expect([await names(), await names(`&datasetId=${b}`)]).toEqual([['c1', 'c2x', 'c4'], ['c1']]);
    await call('POST', `${root}/datasets/A/collections`, { add: ['c4', 'c2x', 'c1'] });
    await call('DELETE', `${root}/datasets/A/collections`, { remove: ['c2x'] });
    expect([await names(`&datasetId=${a}`), await names(`&datasetId=${b}`)]).toEqual([['c1', 'c4'], []]);
    expect(await datasets()).toBe(2);
    await call('DELETE', `${root}/datasets/A`);
    expect([await names(), await names(`&datasetId=${a}`), await datasets()]).toEqual([['c1', 'c2x', 'c4'], [], 1]);
    await dataset('A');
    expect(await datasets()).toBe(2);
  });

  it('lists an empty project as an empty page', async () => {
    await call('POST', '/namespaces/alice/projects', { name: 'Nothing Yet' });
    expect((await call('GET', '/namespaces/alice/projects/nothing-yet/collections')).json()).toEqual({ collections: [], page: 1, pageSize: 50, total: 0, totalPages: 0 });
  });

  it.each(['page=0', 'page=-1', 'page=abc', 'pageSize=0', 'pageSize=1000000001', 'pageSize=2.5', 'datasetId='])('rejects ?%s with 400', async (q) => {
    const res = await call('GET', `${base}/collections?${q}`);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('validation_error');
  });

  it('GET ?expand=nodes adds the member nodes in member order; other expansions are a 400', async () => {
    const m = await ids(3);
    await create({ name: 'expandable', members: [m[2], m[0], m[1]] });
    const plain = (await get('expandable')).json();
    expect(plain.nodes).toBeUndefined();
    const res = await call('GET', `${base}/collections/expandable?expand=nodes`);
    expect(res.statusCode).toBe(200);
    expect(res.json().members).toEqual([m[2], m[0], m[1]]);
    expect(res.json().nodes.map((n: { id: string }) => n.id)).toEqual([m[2], m[0], m[1]]);
    expect((await call('GET', `${base}/collections/expandable?expand=everything`)).statusCode).toBe(400);
  });

  it('PATCH changes only the given fields, renames (the old name 404s) and moves between datasets', async () => {
    const m = await ids(2);
    const made = (await create({ name: 'patchy', description: 'd', tags: ['a'], members: m, datasetId })).json();
    const res = await call('PATCH', `${base}/collections/patchy`, { tags: ['b'] });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: made.id, name: 'patchy', description: 'd', tags: ['b'], members: m, datasetId, projectId, createdAt: made.createdAt });
    const moved = await call('PATCH', `${base}/collections/patchy`, { name: 'patched', datasetId: otherDatasetId });
    expect(moved.json()).toMatchObject({ name: 'patched', datasetId: otherDatasetId, members: m });
    expect((await get('patchy')).statusCode).toBe(404);
    expect((await get('patched')).json()).toMatchObject({ id: made.id, datasetId: otherDatasetId, description: 'd' });
    const eval_ = (await call('GET', `${base}/datasets/eval-set`)).json();
    expect(eval_.collections.map((c: Item) => c.name)).toContain('patched');
    expect((await call('GET', `${base}/datasets/training-v2`)).json().collections.map((c: Item) => c.name)).not.toContain('patched');
    const loose = await call('PATCH', `${base}/collections/patched`, { datasetId: null, description: null, metadata: { x: 1 } });
    expect(loose.json()).toMatchObject({ datasetId: null, description: null, metadata: { x: 1 } });
    expect((await get('patched')).json().datasetId).toBeNull();
  });

  it('PATCH members replaces them all, in the order given; later appends go after them', async () => {
    const m = await ids(5);
    await create({ name: 'replace-me', members: [m[0], m[1], m[2]] });
    const res = await call('PATCH', `${base}/collections/replace-me`, { members: [m[3], m[1], m[3]] });
    expect(res.statusCode).toBe(200);
    expect(res.json().members).toEqual([m[3], m[1]]);
    expect((await get('replace-me')).json().members).toEqual([m[3], m[1]]);
    const added = await call('POST', `${base}/collections/replace-me/members`, { add: [m[4], m[0]] });
    expect(added.json()).toEqual({ members: [m[3], m[1], m[4], m[0]], added: 2, total: 4 });
    expect((await call('PATCH', `${base}/collections/replace-me`, { members: [] })).json().members).toEqual([]);
    expect((await call('POST', `${base}/collections/replace-me/members`, { add: [m[2]] }, { ...alice, prefer: 'return=minimal' })).json()).toEqual({ added: 1, total: 1 });
  });

  it('PATCH answers 404 for an unknown dataset, 400 for invalid members, 409 for a taken name, and changes nothing', async () => {
    const m = await ids(2);
    await create({ name: 'steady', members: m, datasetId, description: 'same' });
    await create({ name: 'taken' });
    const cases: [unknown, number][] = [
      [{ datasetId: 'no-such-dataset', description: 'changed' }, 404],
      [{ members: [m[0], ''], description: 'changed' }, 400],
      [{ name: 'taken', description: 'changed' }, 409],
      [{ name: '' }, 400],
      [{ owner: 'me' }, 400],
      [{ members: 'x' }, 400],
      [{ datasetId: 3 }, 400],
      [{ tags: Array.from({ length: 51 }, (_, i) => `t${i}`) }, 400],
    ];
    for (const [body, status] of cases) {
      const res = await call('PATCH', `${base}/collections/steady`, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(status);
    }
    expect((await get('steady')).json()).toMatchObject({ name: 'steady', members: m, datasetId, description: 'same', tags: [] });
    expect((await get('taken')).json().description).toBeNull();
  });

  it('DELETE is soft: the collection 404s everywhere and leaves its dataset', async () => {
    const m = await ids(1);
    const made = (await create({ name: 'doomed', datasetId, members: m })).json();
    const del = await call('DELETE', `${base}/collections/doomed`);
    expect(del.statusCode).toBe(200);
    expect(del.json()).toEqual({ success: true });
    expect((await get('doomed')).statusCode).toBe(404);
    expect((await call('PATCH', `${base}/collections/doomed`, { name: 'x' })).statusCode).toBe(404);
    expect((await call('DELETE', `${base}/collections/doomed`)).statusCode).toBe(404);
    expect((await call('POST', `${base}/collections/doomed/members`, { add: m })).statusCode).toBe(404);
    expect((await call('DELETE', `${base}/collections/doomed/members`, { remove: m })).statusCode).toBe(404);
    const list = (await call('GET', `${base}/collections?pageSize=200`)).json();
    expect(list.collections.map((c: { id: string }) => c.id)).not.toContain(made.id);
    expect((await call('GET', `${base}/datasets/training-v2`)).json().collections.map((c: { id: string }) => c.id)).not.toContain(made.id);
    const again = await create({ name: 'doomed' });
    expect(again.statusCode).toBe(201);
    expect(again.json().members).toEqual([]);
  });

  it('serves the same collections under /spaces and /projects', async () => {
    const made = await create({ name: 'via-spaces' }, alice, '/namespaces/alice/spaces/lab');
    expect(made.statusCode).toBe(201);
    expect((await get('via-spaces')).json().id).toBe(made.json().id);
    const m = await ids(1);
    const add = await call('POST', '/namespaces/alice/spaces/lab/collections/via-spaces/members', { add: m });
    expect(add.json()).toEqual({ members: m, added: 1, total: 1 });
    expect((await call('GET', '/namespaces/alice/spaces/lab/collections')).json().collections.map((c: Item) => c.name)).toContain('via-spaces');
  });

  it('hides collections from outsiders (404) and refuses readers who write (403)', async () => {
    const m = await ids(1);
    await create({ name: 'private', members: m });
    for (const [method, url, body] of [
      ['GET', `${base}/collections`, undefined],
      ['GET', `${base}/collections/private`, undefined],
      ['POST', `${base}/collections`, { name: 'intruder' }],
      ['PATCH', `${base}/collections/private`, { name: 'mine' }],
      ['DELETE', `${base}/collections/private`, undefined],
      ['POST', `${base}/collections/private/members`, { add: ['x'] }],
      ['DELETE', `${base}/collections/private/members`, { remove: m }],
    ] as const) {
      const res = await call(method, url, body, bob);
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json().message).toMatch(/namespace/i);
    }
    expect((await get('private')).json().members).toEqual(m);

    await call('POST', '/namespaces', { slug: 'team' });
    await call('POST', '/namespaces/team/projects', { name: 'Shared' });
    const team = '/namespaces/team/projects/shared';
    const tm = await memberIds(t, alice, 'team', 'shared', 2);
    await create({ name: 'team-col', members: [tm[0]] }, alice, team);
    await t.inject({ method: 'PUT', url: '/namespaces/team/members/bob', headers: alice, payload: { role: 'read' } });
    expect((await call('GET', `${team}/collections`, undefined, bob)).json().total).toBe(1);
    expect((await call('GET', `${team}/collections/team-col`, undefined, bob)).json().members).toEqual([tm[0]]);
    for (const [method, url, body] of [
      ['POST', `${team}/collections`, { name: 'reader-made' }],
      ['PATCH', `${team}/collections/team-col`, { name: 'renamed' }],
      ['DELETE', `${team}/collections/team-col`, undefined],
      ['POST', `${team}/collections/team-col/members`, { add: [tm[1]] }],
      ['DELETE', `${team}/collections/team-col/members`, { remove: [tm[0]] }],
    ] as const) {
      const res = await call(method, url, body, bob);
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(res.json().error).toBe('forbidden');
    }
    expect((await call('GET', `${team}/collections/team-col`)).json()).toMatchObject({ name: 'team-col', members: [tm[0]] });

    await t.inject({ method: 'PUT', url: '/namespaces/team/members/bob', headers: alice, payload: { role: 'write' } });
    expect((await call('POST', `${team}/collections/team-col/members`, { add: [tm[1]] }, bob)).json().total).toBe(2);
  });

  it('requires a bearer token', async () => {
    expect((await t.inject({ method: 'GET', url: `${base}/collections` })).statusCode).toBe(401);
    expect((await t.inject({ method: 'POST', url: `${base}/collections/x/members`, payload: { add: ['a'] } })).statusCode).toBe(401);
  });
});
