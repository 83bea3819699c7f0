import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DIALECTS, type TestApp } from '../helpers/app.js';
import { labProject } from '../helpers/lake.js';
import { memberIds } from '../helpers/members.js';

type Headers = Record<string, string>;

describe.each(DIALECTS)('DreamLake datasets (%s)', (dialect) => {
  let t: TestApp;
  let alice: Headers;
  let bob: Headers;
  let projectId: string;
  const base = '/namespaces/alice/projects/lab';

  beforeAll(async () => {
    t = await createTestApp(dialect);
    ({ alice, bob, projectId } = await labProject(t));
  });
  afterAll(async () => t.close());

  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, headers: Headers = alice) =>
    t.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
  const createDataset = (body: unknown, headers = alice, root = base) => call('POST', `${root}/datasets`, body, headers);
  const createCollection = (body: unknown, root = base) => call('POST', `${root}/collections`, body);
  const total = async () => (await call('GET', `${base}/datasets`)).json().total as number;

  it('creates a dataset: 201 with the documented fields, and it is stored', async () => {
    const res = await createDataset({ name: 'training-v2', description: 'Q1 training data', tags: ['q1'] });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toEqual({
      id: expect.any(String),
      name: 'training-v2',
      description: 'Q1 training data',
      tags: ['q1'],
      projectId,
      metadata: null,
      bindrs: [],
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
      updatedAt: body.createdAt,
    });
    const got = await call('GET', `${base}/datasets/training-v2`);
    expect(got.statusCode).toBe(200);
    expect(got.json()).toEqual({ ...body, collections: [] });
  });

  it('defaults description, tags and metadata; keeps metadata objects', async () => {
    const res = await createDataset({ name: 'bare', metadata: { source: 'cam', n: 3 } });
    expect(res.json()).toMatchObject({ description: null, tags: [], metadata: { source: 'cam', n: 3 } });
  });

  it('serves the same datasets under /spaces and /projects', async () => {
    const made = await createDataset({ name: 'via-spaces' }, alice, '/namespaces/alice/spaces/lab');
    expect(made.statusCode).toBe(201);
    expect((await call('GET', `${base}/datasets/via-spaces`)).json().id).toBe(made.json().id);
    const list = await call('GET', '/namespaces/alice/spaces/lab/datasets');
    expect(list.json().datasets.map((d: { name: string }) => d.name)).toContain('via-spaces');
  });

  it('answers 409 on a live duplicate name; deleting frees the name', async () => {
    expect((await createDataset({ name: 'dup' })).statusCode).toBe(201);
    const again = await createDataset({ name: 'dup' });
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toBe('conflict');
    expect((await call('DELETE', `${base}/datasets/dup`)).json()).toEqual({ success: true });
    const reborn = await createDataset({ name: 'dup' });
    expect(reborn.statusCode).toBe(201);
    // the same name in another project is no conflict
    await call('POST', '/namespaces/alice/projects', { name: 'Other' });
    expect((await createDataset({ name: 'dup' }, alice, '/namespaces/alice/projects/other')).statusCode).toBe(201);
  });

  it('answers 404 for a missing namespace or project', async () => {
    const noNs = await createDataset({ name: 'x' }, alice, '/namespaces/nowhere/projects/lab');
    expect(noNs.statusCode).toBe(404);
    expect(noNs.json().message).toMatch(/namespace/i);
    const noProject = await createDataset({ name: 'x' }, alice, '/namespaces/alice/projects/nothing');
    expect(noProject.statusCode).toBe(404);
    expect(noProject.json().message).toMatch(/project/i);
    expect((await call('GET', '/namespaces/alice/projects/nothing/datasets')).statusCode).toBe(404);
    expect((await call('GET', '/namespaces/nowhere/projects/lab/datasets')).statusCode).toBe(404);
    expect((await call('GET', '/namespaces/alice/projects/nothing/datasets/training-v2')).statusCode).toBe(404);
  });

  it.each([
    ['name missing', {}],
    ['name empty', { name: '' }],
    ['name blank', { name: '   ' }],
    ['name not a string', { name: 7 }],
    ['name too long', { name: 'x'.repeat(201) }],
    ['unknown field', { name: 'ok', colour: 'red' }],
    ['too many tags', { name: 'ok', tags: Array.from({ length: 51 }, (_, i) => `t${i}`) }],
    ['tag too long', { name: 'ok', tags: ['x'.repeat(65)] }],
    ['tags not strings', { name: 'ok', tags: [1] }],
    ['tags not an array', { name: 'ok', tags: 'a' }],
    ['description too long', { name: 'ok', description: 'x'.repeat(10_001) }],
    ['description not a string', { name: 'ok', description: 5 }],
    ['metadata not an object', { name: 'ok', metadata: [1] }],
    ['metadata over 64 KiB', { name: 'ok', metadata: { blob: 'x'.repeat(70_000) } }],
  ])('rejects %s with 400 and stores nothing', async (_label, body) => {
    const before = await total();
    const res = await createDataset(body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: expect.any(String), message: expect.any(String) });
    expect(await total()).toBe(before);
  });

  it('says which field is wrong', async () => {
    expect((await createDataset({})).json().message).toMatch(/name/);
    expect((await createDataset({ name: 'ok', colour: 'red' })).json().message).toMatch(/colour/);
  });

  it('rejects malformed JSON with 400 invalid_json', async () => {
    const res = await t.inject({ method: 'POST', url: `${base}/datasets`, headers: { ...alice, 'content-type': 'application/json' }, payload: '{"name": ' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('invalid_json');
  });

  it('lists newest first with page, pageSize, total and totalPages', async () => {
    await call('POST', '/namespaces/alice/projects', { name: 'Paging' });
    const root = '/namespaces/alice/projects/paging';
    for (let i = 0; i < 5; i++) await createDataset({ name: `D${i}`, description: `d${i}` }, alice, root);
    const res = await call('GET', `${root}/datasets?page=2&pageSize=2`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ page: 2, pageSize: 2, total: 5, totalPages: 3 });
    const items = res.json().datasets;
    expect(items.map((d: { name: string }) => d.name)).toEqual(['D2', 'D1']);
    expect(items[0]).toMatchObject({ id: expect.any(String), name: 'D2', description: 'd2', tags: [] });
    expect(items[0].collections).toBeUndefined();
    const first = await call('GET', `${root}/datasets`);
    expect(first.json()).toMatchObject({ page: 1, pageSize: 50, total: 5, totalPages: 1 });
    expect(first.json().datasets[0].name).toBe('D4');
    const past = await call('GET', `${root}/datasets?page=9&pageSize=2`);
    expect(past.json()).toEqual({ datasets: [], page: 9, pageSize: 2, total: 5, totalPages: 3 });
    expect((await call('GET', `${root}/datasets?pageSize=500`)).json().pageSize).toBe(200);
    await call('DELETE', `${root}/datasets/D4`);
    expect((await call('GET', `${root}/datasets`)).json().total).toBe(4);
  });

  it('lists an empty project as an empty page', async () => {
    await call('POST', '/namespaces/alice/projects', { name: 'Empty' });
    const res = await call('GET', '/namespaces/alice/projects/empty/datasets');
    expect(res.json()).toEqual({ datasets: [], page: 1, pageSize: 50, total: 0, totalPages: 0 });
  });

  it.each(['page=0', 'page=-1', 'page=abc', 'pageSize=0', 'pageSize=1000000001', 'page=1.5'])('rejects %s with 400', async (q) => {
    const res = await call('GET', `${base}/datasets?${q}`);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('validation_error');
  });

  it('GET includes all live collections of the dataset, oldest first, with members in order', async () => {
    const ds = (await createDataset({ name: 'with-collections' })).json();
    const ids = await memberIds(t, alice, 'alice', 'lab', 3);
    await createCollection({ name: 'front-camera-clips', datasetId: ds.id, members: [ids[1], ids[0]] });
    await createCollection({ name: 'good-detections', datasetId: ds.id, members: [ids[2]] });
    await createCollection({ name: 'gone', datasetId: ds.id, members: [ids[0]] });
    await createCollection({ name: 'elsewhere', members: [ids[0]] });
    await call('DELETE', `${base}/collections/gone`);
    const res = await call('GET', `${base}/datasets/with-collections`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ id: ds.id, name: 'with-collections', description: null, tags: [] });
    expect(body.collections.map((c: { name: string; members: string[] }) => [c.name, c.members])).toEqual([
      ['front-camera-clips', [ids[1], ids[0]]],
      ['good-detections', [ids[2]]],
    ]);
    expect(body.collections[0]).toMatchObject({ id: expect.any(String), datasetId: ds.id, projectId });
  });

  it('answers 404 for a dataset that does not exist', async () => {
    const res = await call('GET', `${base}/datasets/nothing-here`);
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'not_found', message: expect.stringMatching(/dataset/i) });
    expect((await call('PATCH', `${base}/datasets/nothing-here`, { name: 'x' })).statusCode).toBe(404);
    expect((await call('DELETE', `${base}/datasets/nothing-here`)).statusCode).toBe(404);
  });

  it('finds names with spaces and slashes (URL-encoded)', async () => {
    const made = await createDataset({ name: 'eval set / 2' });
    const res = await call('GET', `${base}/datasets/${encodeURIComponent('eval set / 2')}`);
    expect(res.statusCode).toBe(200);
    expect(res.json().id).toBe(made.json().id);
  });

  it('PATCH changes only the given fields and may rename; the old name then answers 404', async () => {
    const made = (await createDataset({ name: 'patchy', description: 'd', tags: ['a'], metadata: { k: 1 } })).json();
    const res = await call('PATCH', `${base}/datasets/patchy`, { tags: ['b', 'c'] });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: made.id, name: 'patchy', description: 'd', tags: ['b', 'c'], metadata: { k: 1 }, projectId, createdAt: made.createdAt });
    expect(res.json().updatedAt >= made.updatedAt).toBe(true);
    const renamed = await call('PATCH', `${base}/datasets/patchy`, { name: 'patched', description: null, metadata: null });
    expect(renamed.json()).toMatchObject({ id: made.id, name: 'patched', description: null, metadata: null, tags: ['b', 'c'] });
    expect((await call('GET', `${base}/datasets/patchy`)).statusCode).toBe(404);
    expect((await call('GET', `${base}/datasets/patched`)).json()).toMatchObject({ id: made.id, description: null, tags: ['b', 'c'] });
  });

  it.each(['datasets', 'collections', 'bindrs'])('refuses the names "." and ".." for %s (no URL can address them), on create and rename, storing nothing', async (kind) => {
    const list = async () => (await call('GET', `${base}/${kind}?pageSize=200`)).json()[kind].map((x: { name: string }) => x.name).sort();
    const before = await list();
    for (const name of ['.', '..']) {
      const res = await call('POST', `${base}/${kind}`, { name });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: 'validation_error', message: 'name must not be "." or "..": a URL cannot address that name.' });
    }
    expect((await call('POST', `${base}/${kind}`, { name: `dots-${kind}` })).statusCode).toBe(201);
    const renamed = await call('PATCH', `${base}/${kind}/dots-${kind}`, { name: '..' });
    expect(renamed.statusCode).toBe(400);
    expect(await list()).toEqual([...before, `dots-${kind}`].sort());
    const dots = '.'.repeat(3 + ['datasets', 'collections', 'bindrs'].indexOf(kind)); // bindrs and collections are one list
    expect((await call('POST', `${base}/${kind}`, { name: dots })).statusCode).toBe(201); // only the dot segments are unreachable
  });

  it('PATCH answers 409 when renaming onto a live name, 400 on bad fields, and changes nothing', async () => {
    await createDataset({ name: 'first' });
    await createDataset({ name: 'second', description: 'keep' });
    const clash = await call('PATCH', `${base}/datasets/second`, { name: 'first' });
    expect(clash.statusCode).toBe(409);
    for (const body of [{ name: '' }, { colour: 'red' }, { tags: [5] }, { description: 'x'.repeat(10_001) }, { metadata: { b: 'x'.repeat(70_000) } }]) {
      expect((await call('PATCH', `${base}/datasets/second`, body)).statusCode).toBe(400);
    }
    expect((await call('GET', `${base}/datasets/second`)).json()).toMatchObject({ name: 'second', description: 'keep', tags: [], metadata: null });
  });

  it('DELETE is soft: the dataset 404s, its collections live on standalone', async () => {
    const ds = (await createDataset({ name: 'doomed' })).json();
    const ids = await memberIds(t, alice, 'alice', 'lab', 2);
    await createCollection({ name: 'survivor', datasetId: ds.id, members: ids });
    const del = await call('DELETE', `${base}/datasets/doomed`);
    expect(del.statusCode).toBe(200);
    expect(del.json()).toEqual({ success: true });
    expect((await call('GET', `${base}/datasets/doomed`)).statusCode).toBe(404);
    expect((await call('PATCH', `${base}/datasets/doomed`, { description: 'x' })).statusCode).toBe(404);
    expect((await call('DELETE', `${base}/datasets/doomed`)).statusCode).toBe(404);
    const list = (await call('GET', `${base}/datasets?pageSize=200`)).json();
    expect(list.datasets.map((d: { id: string }) => d.id)).not.toContain(ds.id);
    const survivor = await call('GET', `${base}/collections/survivor`);
    expect(survivor.statusCode).toBe(200);
    expect(survivor.json()).toMatchObject({ datasetId: null, members: ids });
    expect((await call('GET', `${base}/collections?datasetId=${ds.id}`)).json().total).toBe(0);
    // the name is free again, and the new dataset starts empty
    const again = await createDataset({ name: 'doomed' });
    expect(again.statusCode).toBe(201);
    expect((await call('GET', `${base}/datasets/doomed`)).json().collections).toEqual([]);
  });

  it('attaches and detaches collections by name: {added|removed, total}', async () => {
    const ds = (await createDataset({ name: 'grouping' })).json();
    const other = (await createDataset({ name: 'grouping-other' })).json();
    await createCollection({ name: 'g1' });
    await createCollection({ name: 'g2' });
    await createCollection({ name: 'g3', datasetId: other.id });
    const url = `${base}/datasets/grouping/collections`;
    const add = await call('POST', url, { add: ['g1', 'g2', 'g1'] });
    expect(add.statusCode).toBe(200);
    expect(add.json()).toEqual({ added: 2, total: 2 });
    // already attached ones are not counted again; one from another dataset moves over
    expect((await call('POST', url, { add: ['g2', 'g3'] })).json()).toEqual({ added: 1, total: 3 });
    expect((await call('GET', `${base}/collections/g3`)).json().datasetId).toBe(ds.id);
    expect((await call('GET', `${base}/datasets/grouping-other`)).json().collections).toEqual([]);
    expect((await call('GET', `${base}/datasets/grouping`)).json().collections.map((c: { name: string }) => c.name)).toEqual(['g1', 'g2', 'g3']);

    const remove = await call('DELETE', url, { remove: ['g1', 'g3', 'not-in-it'] });
    expect(remove.statusCode).toBe(200);
    expect(remove.json()).toEqual({ removed: 2, total: 1 });
    expect((await call('GET', `${base}/collections/g1`)).json().datasetId).toBeNull();
    expect((await call('GET', `${base}/datasets/grouping`)).json().collections.map((c: { name: string }) => c.name)).toEqual(['g2']);
  });

  it('attach answers 404 naming unknown or deleted collections, and changes nothing', async () => {
    await createDataset({ name: 'strict' });
    await createCollection({ name: 'real-one' });
    await createCollection({ name: 'deleted-one' });
    await call('DELETE', `${base}/collections/deleted-one`);
    const res = await call('POST', `${base}/datasets/strict/collections`, { add: ['real-one', 'ghost', 'deleted-one'] });
    expect(res.statusCode).toBe(404);
    expect(res.json().message).toContain('"ghost"');
    expect(res.json().message).toContain('"deleted-one"');
    expect((await call('GET', `${base}/collections/real-one`)).json().datasetId).toBeNull();
    expect((await call('POST', `${base}/datasets/no-such/collections`, { add: ['real-one'] })).statusCode).toBe(404);
    expect((await call('DELETE', `${base}/datasets/no-such/collections`, { remove: ['real-one'] })).statusCode).toBe(404);
  });

  it('attach cannot reach collections of another project', async () => {
    await call('POST', '/namespaces/alice/projects', { name: 'Far' });
    await createCollection({ name: 'far-away' }, '/namespaces/alice/projects/far');
    await createDataset({ name: 'near' });
    expect((await call('POST', `${base}/datasets/near/collections`, { add: ['far-away'] })).statusCode).toBe(404);
  });

  it.each([
    ['POST', {}],
    ['POST', { add: [] }],
    ['POST', { add: 'g1' }],
    ['POST', { add: [1] }],
    ['POST', { add: [''] }],
    ['POST', { add: ['g1'], extra: true }],
    ['POST', { remove: ['g1'] }],
    ['DELETE', {}],
    ['DELETE', { remove: [] }],
    ['DELETE', { remove: 'g1' }],
    ['DELETE', { remove: [null] }],
    ['DELETE', { add: ['g1'] }],
  ] as const)('%s …/datasets/:name/collections rejects %j with 400', async (method, body) => {
    await createDataset({ name: 'checked' });
    const res = await call(method, `${base}/datasets/checked/collections`, body);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('validation_error');
  });

  it('hides datasets from outsiders (404) and refuses readers who write (403)', async () => {
    await createDataset({ name: 'private' });
    for (const [method, url, body] of [
      ['GET', `${base}/datasets`, undefined],
      ['GET', `${base}/datasets/private`, undefined],
      ['POST', `${base}/datasets`, { name: 'intruder' }],
      ['PATCH', `${base}/datasets/private`, { name: 'mine' }],
      ['DELETE', `${base}/datasets/private`, undefined],
      ['POST', `${base}/datasets/private/collections`, { add: ['g2'] }],
      ['DELETE', `${base}/datasets/private/collections`, { remove: ['g2'] }],
    ] as const) {
      const res = await call(method, url, body, bob);
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json().message).toMatch(/namespace/i);
    }

    await call('POST', '/namespaces', { slug: 'team' });
    await call('POST', '/namespaces/team/projects', { name: 'Shared' });
    const team = '/namespaces/team/projects/shared';
    await createDataset({ name: 'team-set' }, alice, team);
    await createCollection({ name: 'team-col' }, team);
    expect((await t.inject({ method: 'PUT', url: '/namespaces/team/members/bob', headers: alice, payload: { role: 'read' } })).statusCode).toBe(201);
    expect((await call('GET', `${team}/datasets`, undefined, bob)).statusCode).toBe(200);
    expect((await call('GET', `${team}/datasets/team-set`, undefined, bob)).statusCode).toBe(200);
    for (const [method, url, body] of [
      ['POST', `${team}/datasets`, { name: 'reader-made' }],
      ['PATCH', `${team}/datasets/team-set`, { name: 'renamed' }],
      ['DELETE', `${team}/datasets/team-set`, undefined],
      ['POST', `${team}/datasets/team-set/collections`, { add: ['team-col'] }],
      ['DELETE', `${team}/datasets/team-set/collections`, { remove: ['team-col'] }],
    ] as const) {
      const res = await call(method, url, body, bob);
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(res.json().error).toBe('forbidden');
    }
    expect((await call('GET', `${team}/datasets`, undefined, bob)).json().total).toBe(1);
    expect((await call('GET', `${team}/datasets/team-set`)).json().collections).toEqual([]);

    await t.inject({ method: 'PUT', url: '/namespaces/team/members/bob', headers: alice, payload: { role: 'write' } });
    expect((await createDataset({ name: 'writer-made' }, bob, team)).statusCode).toBe(201);
  });

  it('requires a bearer token', async () => {
    expect((await t.inject({ method: 'GET', url: `${base}/datasets` })).statusCode).toBe(401);
    expect((await t.inject({ method: 'POST', url: `${base}/datasets`, payload: { name: 'anon' } })).statusCode).toBe(401);
  });
});
