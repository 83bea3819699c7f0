import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScriptTestApp, DIALECTS, type ScriptTestApp } from './helpers.js';

// REST bodies are JSON (application/json, or application/merge-patch+json for PATCH): any other media type is
// a 415 unsupported_media_type, refused before the route runs, so nothing is stored.

const NOT_JSON = ['text/plain', 'text/plain; charset=utf-8', 'application/xml', 'application/octet-stream', 'application/x-www-form-urlencoded'];

describe.each(DIALECTS)('Dreamscript request media types (%s)', (dialect) => {
  let t: ScriptTestApp;
  let admin: string;
  let projectId: number;
  let doc: { id: number; _rev: string };
  beforeAll(async () => {
    t = await createScriptTestApp(dialect);
    admin = await t.key();
    projectId = (await t.call(admin, { method: 'POST', url: '/projects', payload: { name: 'media', description: 'kept' } })).json().id;
    doc = (await t.call(admin, { method: 'POST', url: '/documents', payload: { title: 'media doc', projectId } })).json();
  });
  afterAll(async () => t.close());

  /** Every row a refused request could have touched. */
  const snapshot = async () => ({
    documents: await t.db.selectFrom('script_documents').selectAll().orderBy('id').execute(),
    revisions: await t.db.selectFrom('script_revisions').select(['document_id', 'rev']).orderBy('seq').execute(),
    projects: await t.db.selectFrom('script_projects').selectAll().orderBy('id').execute(),
    keys: await t.db.selectFrom('script_keys').select(['id', 'revoked_at']).orderBy('id').execute(),
  });

  const calls = () =>
    [
      ['POST', '/documents', JSON.stringify({ title: 'x' })],
      ['POST', '/documents/_bulk', JSON.stringify({ docs: [{ title: 'x' }] })],
      ['PUT', `/documents/${doc.id}`, JSON.stringify({ title: 'x' })],
      ['PATCH', `/documents/${doc.id}`, JSON.stringify({ title: 'x' })],
      ['DELETE', `/documents/${doc.id}`, JSON.stringify({ _rev: doc._rev })],
      ['POST', '/projects', JSON.stringify({ name: 'x' })],
      ['PATCH', `/projects/${projectId}`, JSON.stringify({ name: 'x' })],
      ['POST', '/keys', JSON.stringify({ name: 'x' })],
    ] as const;

  it.each(NOT_JSON)('a %s body is a 415 on every REST write, and nothing changes', async (contentType) => {
    const before = await snapshot();
    for (const [method, url, payload] of calls()) {
      const res = await t.call(admin, { method, url, payload, headers: { 'content-type': contentType } });
      expect(res.statusCode, `${method} ${url}`).toBe(415);
      expect(res.json(), `${method} ${url}`).toEqual({ error: 'unsupported_media_type', message: 'Unsupported Content-Type; send application/json.' });
    }
    expect(await snapshot()).toEqual(before);
  });

  it('the same bodies as application/json are accepted', async () => {
    const res = await t.call(admin, { method: 'POST', url: '/documents', payload: JSON.stringify({ title: 'json' }), headers: { 'content-type': 'application/json; charset=utf-8' } });
    expect(res.statusCode).toBe(201);
    expect(await t.db.selectFrom('script_documents').select('title').where('id', '=', res.json().id).executeTakeFirst()).toEqual({ title: 'json' });
  });

  it('the OpenAPI document lists 415 (and 413) for every Dreamscript operation that takes a body', async () => {
    const spec = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>>;
    };
    const withBody: string[] = [];
    for (const [path, operations] of Object.entries(spec.paths)) {
      if (!path.startsWith('/dreamscript/') || path.startsWith('/dreamscript/couch')) continue;
      for (const [method, operation] of Object.entries(operations)) {
        if (!operation.requestBody) continue;
        withBody.push(`${method.toUpperCase()} ${path}`);
        expect(Object.keys(operation.responses), `${method} ${path}`).toEqual(expect.arrayContaining(['400', '413', '415']));
      }
    }
    expect(withBody.sort()).toEqual(
      [
        'DELETE /dreamscript/documents/{documentId}',
        'PATCH /dreamscript/documents/{documentId}',
        'PATCH /dreamscript/projects/{projectId}',
        'POST /dreamscript/documents',
        'POST /dreamscript/documents/_bulk',
        'POST /dreamscript/keys',
        'POST /dreamscript/projects',
        'PUT /dreamscript/documents/{documentId}',
      ].sort(),
    );
  });
});
