/**
 * The API reference (/docs and /openapi.json) as a reader meets it: titled, introduced, every answer described,
 * Dreamspace's plain-text errors and nesting documented, uploads documented as binary.
 * The document is the same on both databases: it runs once, on SQLite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.js';

type Operation = {
  summary?: string;
  tags?: string[];
  requestBody?: { required?: boolean; content: Record<string, { schema: { type?: string; format?: string } }> };
  responses: Record<string, { description?: string; content?: Record<string, unknown> }>;
};

describe('the API reference', () => {
  let t: TestApp;
  let doc: { info: { title: string; description: string }; tags?: Array<{ name: string; description: string }>; paths: Record<string, Record<string, Operation>> };
  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })));

  beforeAll(async () => {
    t = await createTestApp('sqlite');
    doc = (await t.inject({ method: 'GET', url: '/openapi.json' })).json();
  });
  afterAll(async () => t.close());

  it('is a page titled DreamLake, not "Swagger UI"', async () => {
    const page = await t.inject({ method: 'GET', url: '/docs/' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toMatch(/<title>DreamLake<\/title>/);
    expect(page.body).not.toMatch(/<title>Swagger UI/);
    expect(doc.info.title).toBe('DreamLake');
    // Swagger UI's scripts set style attributes: inline styles are allowed there, inline scripts never.
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toMatch(/style-src [^;]*'unsafe-inline'/);
    expect(csp).not.toMatch(/script-src [^;]*'unsafe-inline'/);
  });

  it('starts by telling how to get a token, Dreamscript keys and the Dreamspace token', () => {
    expect(doc.info.description).toContain('npx dreamlake token <username>');
    expect(doc.info.description).toContain('npx dreamlake keys create');
    expect(doc.info.description).toContain('APITOKEN');
  });

  it('describes every answer of every operation (no "Default Response")', () => {
    const undescribed = operations().flatMap(({ path, method, op }) =>
      Object.entries(op.responses)
        .filter(([, r]) => !r.description || r.description === 'Default Response')
        .map(([status]) => `${method.toUpperCase()} ${path} ${status}`),
    );
    expect(undescribed).toEqual([]);
    expect(operations().length).toBeGreaterThan(100);
  });

  it('documents the upload body as binary, under a named path parameter the page can fill in', () => {
    const put = doc.paths['/namespaces/{slug}/projects/{projectSlug}/files/{path}']?.put;
    expect(put).toBeDefined();
    expect(put.requestBody?.content['application/octet-stream'].schema).toMatchObject({ type: 'string', format: 'binary' });
    expect(Object.keys(doc.paths).filter((p) => p.includes('{*}'))).toEqual([]);
  });

  it('marks an optional body optional (a Dreamscript DELETE needs none), every other body required', () => {
    const optional = operations().filter(({ op }) => op.requestBody && op.requestBody.required !== true);
    expect(optional.map(({ method, path }) => `${method} ${path}`)).toEqual(['delete /dreamscript/documents/{documentId}']);
    expect(JSON.stringify(doc)).not.toContain('x-optional-body');
  });

  it('documents downloads: whole file, range, not modified', () => {
    const get = doc.paths['/namespaces/{slug}/projects/{projectSlug}/nodes/{id}/content'].get;
    expect(Object.keys(get.responses)).toEqual(expect.arrayContaining(['200', '206', '304', '404', '416']));
    expect(get.responses['200'].content).toHaveProperty('application/octet-stream');
  });

  it("documents Dreamspace's plain-text errors on every route, and its nested paths", () => {
    const space = operations().filter(({ op }) => op.tags?.includes('Dreamspace'));
    expect(space.length).toBeGreaterThan(50);
    for (const { path, method, op } of space) {
      expect(op.responses['403']?.content, `${method} ${path}`).toHaveProperty('text/plain');
      if (/\{[a-z_]+\}$/.test(path) || path.split('/').length > 3) expect(op.responses['404'], `${method} ${path}`).toBeDefined();
      if (method !== 'get' && method !== 'delete') expect(op.responses['400']?.content, `${method} ${path}`).toHaveProperty('text/plain');
    }
    expect(doc.paths['/dreamspace/events/{id}/user'].get.responses['404'].description).toMatch(/does not exist/);
    const tag = doc.tags?.find((x) => x.name === 'Dreamspace');
    expect(tag?.description).toContain('/dreamspace/events/1/user/specimen/owner');
    expect(tag?.description).toMatch(/plain text/);
  });

  it('writes summaries in English ("an event", not "a event")', () => {
    const summaries = operations().map(({ op }) => op.summary ?? '');
    expect(summaries.filter((s) => /\ba [aeio]|\ban [^aeiou]|\ban u(?!n)/i.test(s))).toEqual([]);
    expect(summaries).toContain('Create an event');
    expect(summaries).toContain('Get a user');
  });
});
