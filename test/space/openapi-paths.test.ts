import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/app.js';
import { IMAGE, ok, spaceApp, type SpaceTest } from './helpers.js';

// docs/dreamspace.md: "The routes are listed in the OpenAPI document", nested paths up to two relations deep
// included (the API document's own example, `POST /events/1/document/stamps`, among them).
describe.each(DIALECTS)('dreamspace paths in the OpenAPI document (%s)', (dialect) => {
  let s: SpaceTest;
  let paths: Record<string, Record<string, any>>;
  beforeAll(async () => {
    s = await spaceApp(dialect);
    const doc = (await s.t.inject({ method: 'GET', url: '/openapi.json' })).json();
    paths = Object.fromEntries(Object.entries(doc.paths as Record<string, Record<string, any>>).filter(([p]) => p.startsWith('/dreamspace/')));
    // One of each object, every one with ID 1, linked to each other: any listed path then names something.
    const event = ok(
      await s.api('POST', '/events', {
        event_type: 'plain',
        message: 'm',
        occurred_at: '2025-06-08T20:12:00+10:00',
        user: { twitch_id: 'o-1', name: 'listed' },
        document: { document_data: IMAGE, seal: 1, stamps: [{ stamp_type: 'a', pos_x: 0, pos_y: 0 }] },
      }),
    );
    ok(await s.api('POST', '/specimens', { owner_id: event.user_id }));
    ok(await s.api('POST', '/transactions', { user_id: event.user_id, amount: 1, description: 'd' }));
  });
  afterAll(async () => s.close());

  it('lists the paths two relations deep with their methods, bodies, filters and answers', () => {
    const stamps = paths['/dreamspace/events/{id}/document/stamps'];
    expect(Object.keys(stamps ?? {}).sort()).toEqual(['get', 'post', 'put']);
    const body = stamps.post.requestBody.content['application/json'].schema;
    expect(body.required).toEqual(['stamp_type', 'pos_x', 'pos_y']); // document_id comes from the path
    expect(stamps.put.requestBody.content['application/json'].schema.type).toBe('array');
    expect(stamps.get.parameters.map((p: { name: string; in: string }) => `${p.in} ${p.name}`)).toEqual(
      expect.arrayContaining(['path id', 'query stamp_type', 'query limit']),
    );
    expect(stamps.get.responses['200'].content['application/json'].schema.items.required).toContain('stamp_id');
    expect(stamps.post.responses['400'].content).toHaveProperty('text/plain');
    expect(Object.keys(paths['/dreamspace/events/{id}/document/stamps/{stamp_id}']).sort()).toEqual(['delete', 'get', 'patch']);
    expect(Object.keys(paths['/dreamspace/users/{id}/specimen/owner']).sort()).toEqual(['delete', 'get', 'patch']);
    expect(paths['/dreamspace/users/{id}/transactions/{transaction_id}/user'].get.parameters.map((p: { name: string }) => p.name)).toEqual([
      'id',
      'transaction_id',
    ]);
    // Two relations deep, not three: the relations nest without end (/users/1/specimen/owner/specimen/…).
    expect(Object.keys(paths).filter((p) => p.split('/').filter((x) => x !== '' && !x.startsWith('{')).length - 2 > 2)).toEqual([]);
  });

  it('lists only paths that exist: each one, with every ID 1, answers GET 200', async () => {
    expect(Object.keys(paths).length).toBeGreaterThan(50);
    for (const path of Object.keys(paths)) {
      const res = await s.api('GET', path.replace(/^\/dreamspace/, '').replace(/\{[a-z_0-9]+\}/g, '1'));
      expect(res.status, `${path}: ${res.text}`).toBe(200);
    }
  });
});
