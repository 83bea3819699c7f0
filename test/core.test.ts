import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DIALECTS, type TestApp } from './helpers/app.js';

describe.each(DIALECTS)('core (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(async () => t.close());

  it('answers /health', async () => {
    const res = await t.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('serves an OpenAPI 3.1 document and a docs page', async () => {
    const res = await t.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    expect(res.json().openapi).toBe('3.1.0');
    const docs = await t.inject({ method: 'GET', url: '/docs' });
    expect([200, 302]).toContain(docs.statusCode);
  });

  it('documents every mounted API with its security scheme', async () => {
    const doc = (await t.inject({ method: 'GET', url: '/openapi.json' })).json();
    const paths = Object.keys(doc.paths);
    expect(paths).toContain('/namespaces/{slug}/projects');
    expect(paths).not.toContain('/namespaces/{slug}/projects/');
    expect(doc.paths['/namespaces/{slug}/projects'].get.security).toEqual([{ bearerAuth: [] }]);
    expect(Object.keys(doc.components.securitySchemes)).toEqual(['bearerAuth', 'scriptApiKey', 'spaceApiKey']);
  });

  it('refuses JSON bodies over 1 MiB with 413 and stores nothing', async () => {
    const headers = await t.auth('big');
    const res = await t.inject({
      method: 'POST',
      url: '/namespaces',
      headers: { ...headers, 'content-type': 'application/json' },
      payload: JSON.stringify({ slug: 'big-one', metadata: { blob: 'x'.repeat(1024 * 1024) } }),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().error).toBe('payload_too_large');
    const list = await t.inject({ method: 'GET', url: '/namespaces', headers });
    expect(list.json().namespaces.map((n: { slug: string }) => n.slug)).not.toContain('big-one');
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await t.inject({ method: 'GET', url: '/no/such/route' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toBe('not_found');
  });

  it('echoes a request id', async () => {
    const res = await t.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'abc-123' } });
    expect(res.headers['x-request-id']).toBe('abc-123');
  });
});

describe('framework errors', () => {
  it('answers an undecodable URL with a 400 in the mount format', async () => {
    const t = await createTestApp('sqlite');
    try {
      const lake = await t.inject({ method: 'GET', url: '/namespaces/%ff' });
      expect(lake.statusCode).toBe(400);
      expect(lake.json().error).toBe('bad_request');
      const space = await t.inject({ method: 'GET', url: '/dreamspace/users/%ff' });
      expect(space.statusCode).toBe(400);
      expect(space.headers['content-type']).toMatch(/^text\/plain/);
      // The CouchDB endpoint answers in CouchDB's shape, also for a segment longer than the router takes.
      for (const url of ['/dreamscript/couch/%ff', `/dreamscript/couch/${'a'.repeat(4100)}`, '/dreamscript/couch/db/%ff?rev=1-a']) {
        const couch = await t.inject({ method: 'GET', url });
        expect(couch.statusCode, url).toBe(400);
        expect(couch.json(), url).toEqual({ error: 'bad_request', reason: expect.stringMatching(/^Malformed URL/) });
      }
      expect((await t.inject({ method: 'GET', url: '/dreamscript/projects/%ff' })).json()).toMatchObject({ error: 'bad_request', message: expect.any(String) });
    } finally {
      await t.close();
    }
  });
});
