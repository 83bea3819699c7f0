import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DIALECTS, type TestApp } from '../helpers/app.js';
import { labProject, type Headers } from '../helpers/lake.js';

// Every DreamLake list paged by page/pageSize answers the same total on a page past its end as on its first page:
// a window count (COUNT(*) OVER ()) has no row to ride on there, so each list must count apart in that case.

type Param = { name: string; in: string };
type OpenApi = { paths: Record<string, Record<string, { parameters?: Param[] }>> };

describe.each(DIALECTS)('DreamLake lists past their last page (%s)', (dialect) => {
  let t: TestApp;
  let alice: Headers;
  const urls: Record<string, string> = {};
  beforeAll(async () => {
    t = await createTestApp(dialect);
    ({ alice } = await labProject(t));
    const call = (method: string, url: string, payload?: object) => t.inject({ method: method as 'GET', url, headers: alice, ...(payload && { payload }) });
    const base = '/namespaces/alice/projects/lab';
    for (const user of ['bob', 'carol']) {
      await t.inject({ method: 'GET', url: '/auth/me', headers: await t.auth(user) });
      expect((await call('PUT', `/namespaces/alice/members/${user}`, { role: 'read' })).statusCode).toBe(201);
    }
    expect((await call('POST', '/namespaces', { slug: 'acme', name: 'Acme' })).statusCode).toBe(201);
    expect((await call('POST', '/namespaces/alice/projects', { name: 'Second' })).statusCode).toBe(201);
    const folder = (await call('POST', `${base}/nodes`, { path: '/f', kind: 'folder' })).json();
    for (const name of ['a', 'b']) expect((await t.inject({ method: 'PUT', url: `${base}/files/f/${name}.txt`, headers: alice, payload: 'x' })).statusCode).toBe(201);
    for (const name of ['e1', 'e2']) expect((await call('POST', `${base}/episodes`, { name })).statusCode).toBe(201);
    const dataset = (await call('POST', `${base}/datasets`, { name: 'd1' })).json();
    expect((await call('POST', `${base}/datasets`, { name: 'd2' })).statusCode).toBe(201);
    for (const name of ['c1', 'c2']) expect((await call('POST', `${base}/collections`, { name, datasetId: dataset.id })).statusCode).toBe(201);
    Object.assign(urls, {
      '/namespaces': '/namespaces',
      '/namespaces/{slug}/members': '/namespaces/alice/members',
      '/namespaces/{slug}/projects': '/namespaces/alice/projects',
      '/namespaces/{slug}/projects/{projectSlug}/nodes': `${base}/nodes?parentId=${folder.id}`,
      '/namespaces/{slug}/projects/{projectSlug}/nodes/{id}/descendants': `${base}/nodes/${folder.id}/descendants`,
      '/namespaces/{slug}/projects/{projectSlug}/episodes': `${base}/episodes`,
      '/namespaces/{slug}/projects/{projectSlug}/datasets': `${base}/datasets`,
      '/namespaces/{slug}/projects/{projectSlug}/collections': `${base}/collections?datasetId=${dataset.id}`,
      '/namespaces/{slug}/projects/{projectSlug}/bindrs': `${base}/bindrs`,
      // The original clients' routes (ORIGINAL-CLIENT-PROTOCOL).
      '/nodes': '/nodes?namespace=alice&project=lab',
      '/nodes/{id}/contents': `/nodes/${folder.id}/contents?namespace=alice&project=lab`,
    });
  });
  afterAll(async () => t.close());

  it('covers every list the API document pages by page and pageSize', async () => {
    const doc = (await t.inject({ url: '/openapi.json' })).json() as OpenApi;
    const paged = Object.entries(doc.paths)
      .filter(([, ops]) => ops.get?.parameters?.some((p) => p.in === 'query' && p.name === 'pageSize'))
      .map(([path]) => path.replace(/\/spaces(\/|$)/, '/projects$1'));
    expect([...new Set(paged)].sort()).toEqual(Object.keys(urls).sort());
  });

  it('answers a page past the end with the real total, every list', async () => {
    for (const [route, url] of Object.entries(urls)) {
      const sep = url.includes('?') ? '&' : '?';
      const first = await t.inject({ url: `${url}${sep}pageSize=1`, headers: alice });
      expect(first.statusCode, route).toBe(200);
      const { total, totalPages } = first.json();
      expect(total, route).toBeGreaterThanOrEqual(2);
      const past = await t.inject({ url: `${url}${sep}pageSize=1&page=${total + 5}`, headers: alice });
      expect(past.statusCode, route).toBe(200);
      expect(past.json(), route).toMatchObject({ page: total + 5, pageSize: 1, total, totalPages });
    }
  });
});
