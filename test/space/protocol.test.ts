import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/app.js';
import { IMAGE, KEY, ok, spaceApp, type SpaceTest } from './helpers.js';

// The documented protocol quirks: API key, 200-only successes, plain-text errors, JSON everywhere.
describe.each(DIALECTS)('dreamspace protocol (%s)', (dialect) => {
  let s: SpaceTest;
  beforeAll(async () => {
    s = await spaceApp(dialect);
    ok(await s.api('POST', '/users', { twitch_id: '100', name: 'alice' }));
  });
  afterAll(async () => s.close());

  it('answers 403 in plain text without the right X-API-KEY, before anything else', async () => {
    for (const headers of [{}, { 'x-api-key': 'SecureToken' }, { 'x-api-key': `${KEY}x` }, { 'x-api-key': '' }]) {
      const res = await s.t.inject({ method: 'GET', url: '/dreamspace/users', headers });
      expect(res.statusCode).toBe(403);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.body).toMatch(/X-API-KEY/);
    }
    // Unknown paths and bad bodies are not looked at without the key either.
    const unknown = await s.t.inject({ method: 'POST', url: '/dreamspace/nothing', payload: '{bad' });
    expect(unknown.statusCode).toBe(403);
    expect((await s.counts()).users).toBe(1);
  });

  it('accepts the header name in any case', async () => {
    const res = await s.t.inject({ method: 'GET', url: '/dreamspace/users', headers: { 'X-API-KEY': KEY } });
    expect(res.statusCode).toBe(200);
    const lower = await s.t.inject({ method: 'GET', url: '/dreamspace/users', headers: { 'x-Api-Key': KEY } });
    expect(lower.statusCode).toBe(200);
  });

  it('uses SecureToken when no token is configured', async () => {
    const d = await spaceApp(dialect, { DREAMSPACE_APITOKEN: '' });
    try {
      const res = await d.t.inject({ method: 'GET', url: '/dreamspace/users', headers: { 'x-api-key': 'SecureToken' } });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual([]);
    } finally {
      await d.close();
    }
  });

  it('answers every success with 200 and JSON, creations included', async () => {
    const res = await s.api('POST', '/documents', { document_data: IMAGE, seal: 1 });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body.document_id).toEqual(expect.any(Number));
    expect(res.headers.location).toBeUndefined();
  });

  it('tolerates an empty body with Content-Type: application/json on GET and DELETE', async () => {
    const get = await s.api('GET', '/users', '');
    expect(get.status).toBe(200);
    const doc = ok(await s.api('POST', '/documents', { document_data: IMAGE, seal: 2 }));
    const del = await s.api('DELETE', `/documents/${doc.document_id}`, '');
    expect(del.status).toBe(200);
    expect(del.body.document_id).toBe(doc.document_id);
    const noHeader = await s.t.inject({ method: 'DELETE', url: `/dreamspace/documents/${doc.document_id}`, headers: { 'x-api-key': KEY } });
    expect(noHeader.statusCode).toBe(404);
  });

  it('reads bodies as JSON whatever the Content-Type says', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
      const res = await s.api('POST', '/users', { twitch_id: `ct-${type}`, name: 'ct' }, { 'content-type': type });
      expect(res.status).toBe(200);
      expect(res.body.twitch_id).toBe(`ct-${type}`);
    }
  });

  it('answers malformed JSON with a plain-text 400 (the original answered 500), storing nothing', async () => {
    const before = await s.counts();
    for (const payload of ['{bad', '{"twitch_id": "1", "name": }', '[1, 2', 'nul']) {
      const res = await s.api('POST', '/users', payload);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.text).toMatch(/^Malformed JSON body/);
    }
    expect(await s.counts()).toEqual(before);
  });

  it('answers a body that is not UTF-8 with a plain-text 400, storing nothing (not U+FFFD in place of the bytes)', async () => {
    const before = await s.counts();
    const userBefore = ok(await s.api('GET', '/users/1'));
    const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
    const cases: [string, string, Buffer][] = [
      ['POST', '/users', bytes('{"twitch_id":"latin1","name":"caf', [0xe9], '"}')], // Latin-1 "café"
      ['PATCH', '/users/1', bytes('{"name":"caf', [0xe9], '"}')],
      ['POST', '/documents', bytes(`{"document_data":"${IMAGE}","seal":1,"metadata":"`, [0xe2, 0x82], '"}')], // cut short
      ['POST', '/users', bytes('{"twitch_id":"overlong","name":"', [0xc0, 0xaf], '"}')], // an overlong "/"
      ['POST', '/users', bytes('{"twitch_id":"surrogate","name":"', [0xed, 0xa0, 0x80], '"}')], // an encoded surrogate
      ['PUT', '/stamps', bytes('[{"document_id":1,"stamp_type":"', [0xff], '","pos_x":0,"pos_y":0}]')],
    ];
    for (const [method, url, payload] of cases) {
      const res = await s.t.inject({ method, url: `/dreamspace${url}`, headers: { 'x-api-key': KEY, 'content-type': 'application/json' }, payload });
      expect([res.statusCode, res.body], `${method} ${url}`).toEqual([400, 'The body is not valid UTF-8: JSON text must be encoded in UTF-8.']);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
    }
    expect(await s.counts()).toEqual(before);
    expect(ok(await s.api('GET', '/users/1'))).toEqual(userBefore);
    // Valid UTF-8 of any length of sequence is fine.
    const fine = await s.t.inject({
      method: 'POST',
      url: '/dreamspace/users',
      headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
      payload: Buffer.from('{"twitch_id":"utf8","name":"café € 🦊"}'),
    });
    expect(fine.json().name).toBe('café € 🦊');
  });

  it('answers wrong field types with a 400 naming the field (no coercion)', async () => {
    const cases: [string, unknown, RegExp][] = [
      ['/users', { twitch_id: 105474571, name: 'x' }, /^Field twitch_id must be a string\.$/],
      ['/users', { twitch_id: '1', name: null }, /^Field name must be a string\.$/],
      ['/documents', { document_data: IMAGE, seal: '1' }, /^Field seal must be an integer\.$/],
      ['/documents', { document_data: IMAGE, seal: 1.5 }, /^Field seal must be an integer\.$/],
      ['/documents', { document_data: IMAGE, seal: 1, stamps: [{ stamp_type: 'a', pos_x: 'left', pos_y: 0 }] }, /^Field stamps\[0\]\.pos_x must be an integer\.$/],
      ['/users', [{ twitch_id: '1', name: 'x' }], /^The body must be an object\.$/],
      ['/users', 'null', /^A JSON body is required\.$/],
      ['/users', '', /^A JSON body is required\.$/],
      ['/users', { twitch_id: '1' }, /^Missing required field: name\.$/],
      ['/users', { twitch_id: '1', name: 'x', colour: 'red' }, /^Unknown field: colour\.$/],
      ['/users', { twitch_id: '1', name: 'x', user_id: 5 }, /^Field user_id cannot be set here \(allowed: twitch_id, name, preferences\)\.$/],
      ['/users', { twitch_id: '1', name: 'a\u0000b' }, /^Field name contains a NUL character, which text fields cannot hold\.$/],
      ['/documents', { document_data: IMAGE, seal: 1, stamps: [{ stamp_type: '\u0000', pos_x: 0, pos_y: 0 }] }, /^Field stamps\[0\]\.stamp_type contains a NUL/],
    ];
    const before = await s.counts();
    for (const [path, body, message] of cases) {
      const res = await s.api('POST', path, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.text).toMatch(message);
    }
    expect(await s.counts()).toEqual(before);
  });

  it('answers unknown models and relations with a 404 (no such resource) and non-integer IDs with a 400', async () => {
    const cases: [string, string, number, RegExp][] = [
      ['GET', '/items', 404, /^Unknown model "items"\. Models: users, transactions, specimens, events, documents, stamps\.$/],
      ['POST', '/items', 404, /^Unknown model "items"/],
      ['GET', '/', 404, /^Unknown model ""/],
      ['GET', '/s', 404, /^Unknown model "s"/],
      ['GET', '/users/1/inventory', 404, /^Unknown relation "inventory" of users\. Relations: transactions, specimens, events, specimen\.$/],
      ['GET', '/documents/1/event', 404, /^Unknown relation "event" of documents/],
      ['GET', '/users/abc', 400, /^"abc" is not a valid user ID: IDs are non-negative integers\.$/],
      ['GET', '/users/1.5', 400, /is not a valid user ID/],
      ['GET', '/users/-1', 400, /is not a valid user ID/],
      ['GET', '/users/1/transactions/x', 400, /^"x" is not a valid transaction ID/],
      ['PATCH', '/events/1e3', 400, /^"1e3" is not a valid event ID/],
    ];
    const before = await s.counts();
    for (const [method, path, status, message] of cases) {
      const res = await s.api(method, path, method === 'GET' ? undefined : {});
      expect(res.status, path).toBe(status);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.text).toMatch(message);
    }
    expect(await s.counts()).toEqual(before);
    const bare = await s.t.inject({ method: 'GET', url: '/dreamspace', headers: { 'x-api-key': KEY } });
    expect(bare.statusCode).toBe(404);
  });

  it('takes the singular of a model at the top of a path, as the API document names /document/1/stamps', async () => {
    const doc = await s.api('POST', '/documents', { document_data: 'aGk=', seal: 1, stamps: [{ stamp_type: 'paw', pos_x: 1, pos_y: 2 }] });
    expect(doc.status).toBe(200);
    const id = doc.body.document_id as number;
    const plural = await s.api('GET', `/documents/${id}/stamps`);
    const singular = await s.api('GET', `/document/${id}/stamps`);
    expect(singular.status).toBe(200);
    expect(singular.body).toEqual(plural.body);
    expect(singular.body).toHaveLength(1);
    const added = await s.api('POST', `/document/${id}/stamps`, { stamp_type: 'star', pos_x: 3, pos_y: 4 });
    expect(added.status).toBe(200);
    expect((await s.api('GET', `/documents/${id}/stamps`)).body).toHaveLength(2);
    const user = await s.api('POST', '/users', { twitch_id: 'singular', name: 'one' });
    expect((await s.api('GET', `/user/${user.body.user_id}`)).body).toEqual((await s.api('GET', `/users/${user.body.user_id}`)).body);
  });

  it('refuses a NUL character in a filter', async () => {
    const res = await s.api('GET', '/users?name=a%00b');
    expect(res.status).toBe(400);
    expect(res.text).toBe('Query parameter name contains a NUL character.');
  });

  it('answers a missing object with a plain-text 404', async () => {
    const res = await s.api('GET', '/users/999');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toBe('User 999 not found.');
    expect((await s.api('PATCH', '/users/999', { name: 'x' })).status).toBe(404);
    expect((await s.api('DELETE', '/users/999')).status).toBe(404);
    expect((await s.api('GET', '/users/0')).status).toBe(404);
  });

  it('answers methods a path does not support with a 405 and an Allow header', async () => {
    const cases: [string, string, string][] = [
      ['DELETE', '/users', 'GET, POST'],
      ['PATCH', '/users', 'GET, POST'],
      ['PUT', '/users', 'GET, POST'],
      ['PUT', '/stamps/1', 'GET, PATCH, DELETE'],
      ['POST', '/users/1', 'GET, PATCH, DELETE'],
      ['PATCH', '/transactions/1', 'GET'],
    ];
    for (const [method, path, allow] of cases) {
      const res = await s.api(method, path, method === 'DELETE' ? undefined : {});
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.allow).toBe(allow);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
    }
  });

  it('answers OPTIONS and TRACE, which no path supports, with the same 405 and Allow (a bad key is still a 403)', async () => {
    for (const [method, path, allow] of [
      ['OPTIONS', '/users', 'GET, POST'],
      ['TRACE', '/users/1', 'GET, PATCH, DELETE'],
      ['OPTIONS', '/stamps/1', 'GET, PATCH, DELETE'],
    ] as const) {
      const res = await s.t.inject({ method, url: `/dreamspace${path}`, headers: { 'x-api-key': KEY } });
      expect([res.statusCode, res.headers.allow], `${method} ${path}`).toEqual([405, allow]);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
    }
    expect((await s.t.inject({ method: 'OPTIONS', url: '/dreamspace/users', headers: { 'x-api-key': 'wrong' } })).statusCode).toBe(403);
  });

  it('answers HEAD like GET without a body', async () => {
    const res = await s.t.inject({ method: 'HEAD', url: '/dreamspace/users', headers: { 'x-api-key': KEY } });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('');
  });

  it('lists its routes with the API key scheme in the OpenAPI document', async () => {
    const res = await s.t.inject({ method: 'GET', url: '/openapi.json' });
    const doc = res.json();
    expect(doc.components.securitySchemes.spaceApiKey).toMatchObject({ type: 'apiKey', in: 'header', name: 'X-API-KEY' });
    for (const path of ['/dreamspace/users', '/dreamspace/users/{id}', '/dreamspace/users/{id}/transactions', '/dreamspace/users/{id}/transactions/{transaction_id}', '/dreamspace/events/{id}/document', '/dreamspace/stamps']) {
      expect(doc.paths[path], path).toBeDefined();
    }
    expect(doc.paths['/dreamspace/users'].get.security).toEqual([{ spaceApiKey: [] }]);
    expect(doc.paths['/dreamspace/stamps'].put).toBeDefined();
    expect(doc.paths['/dreamspace/transactions/{id}'].patch).toBeUndefined();
    expect(Object.keys(doc.paths).some((p) => p.startsWith('/dreamspace') && p.includes('*'))).toBe(false);
  });
});

describe('dreamspace mount', () => {
  it('can be mounted elsewhere, or switched off', async () => {
    const moved = await spaceApp('sqlite', { DREAMLAKE_MOUNT_DREAMSPACE: '/space' });
    try {
      const res = await moved.t.inject({ method: 'GET', url: '/space/users', headers: { 'x-api-key': KEY } });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual([]);
      const deep = await moved.t.inject({ method: 'GET', url: '/space/users/1/specimen/owner', headers: { 'x-api-key': KEY } });
      expect(deep.statusCode).toBe(404);
      expect(deep.body).toBe('User 1 not found.');
    } finally {
      await moved.close();
    }
    const root = await spaceApp('sqlite', { DREAMLAKE_MOUNT_DREAMSPACE: '/', DREAMLAKE_MOUNT_DREAMLAKE: '/lake' });
    try {
      const res = await root.t.inject({ method: 'POST', url: '/users', headers: { 'x-api-key': KEY }, payload: { twitch_id: '1', name: 'root' } });
      expect(res.statusCode).toBe(200);
      const deep = await root.t.inject({ method: 'GET', url: `/users/${res.json().user_id}/transactions`, headers: { 'x-api-key': KEY } });
      expect(deep.json()).toEqual([]);
      expect((await root.t.inject({ method: 'GET', url: '/health' })).json()).toEqual({ status: 'ok' });
    } finally {
      await root.close();
    }
    const off = await spaceApp('sqlite', { DREAMLAKE_MOUNT_DREAMSPACE: 'off' });
    try {
      const res = await off.t.inject({ method: 'GET', url: '/dreamspace/users', headers: { 'x-api-key': KEY } });
      expect(res.statusCode).toBe(404);
    } finally {
      await off.close();
    }
  });
});
