import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SpaceKysely } from '../../src/space/db.js';
import { stampsOf } from '../../src/space/repos/stamps.js';
import { DIALECTS } from '../helpers/app.js';
import { IMAGE, ok, spaceApp, TIMESTAMP, type SpaceTest } from './helpers.js';

const stamp = (stamp_type: string, pos_x = 0, pos_y = 0, rotation?: number) => ({ stamp_type, pos_x, pos_y, ...(rotation === undefined ? {} : { rotation }) });

describe.each(DIALECTS)('dreamspace documents and stamps (%s)', (dialect) => {
  let s: SpaceTest;
  beforeAll(async () => {
    s = await spaceApp(dialect);
  });
  afterAll(async () => s.close());

  it('creates a document with its stamps in one request', async () => {
    const doc = ok(await s.api('POST', '/documents', { document_data: IMAGE, seal: 3, metadata: 'meta', stamps: [stamp('Approve', 1, 2, 1.5708), stamp('Deny', -4, 5)] }));
    expect(doc).toEqual({
      document_id: expect.any(Number),
      document_data: IMAGE,
      seal: 3,
      created_at: expect.stringMatching(TIMESTAMP),
      metadata: 'meta',
      stamps: [
        { stamp_id: expect.any(Number), document_id: doc.document_id, stamp_type: 'Approve', pos_x: 1, pos_y: 2, rotation: 1.5708 },
        { stamp_id: expect.any(Number), document_id: doc.document_id, stamp_type: 'Deny', pos_x: -4, pos_y: 5, rotation: 0 },
      ],
    });
    expect(Object.keys(doc)).toEqual(['document_id', 'document_data', 'seal', 'created_at', 'metadata', 'stamps']);
    expect(doc.stamps[0].stamp_id).toBeLessThan(doc.stamps[1].stamp_id);
    expect(ok(await s.api('GET', `/documents/${doc.document_id}`))).toEqual(doc);
    expect(ok(await s.api('GET', `/documents/${doc.document_id}/stamps`))).toEqual(doc.stamps);
    expect(ok(await s.api('GET', `/stamps/${doc.stamps[1].stamp_id}`))).toEqual(doc.stamps[1]);
    expect(ok(await s.api('GET', `/stamps/${doc.stamps[1].stamp_id}/document`))).toEqual(doc);
  });

  it('refuses invalid base64, missing fields and stamps that carry a document_id, storing nothing', async () => {
    const before = await s.counts();
    for (const data of ['base 64 encoded image data', 'abc', 'ab=c', '!!!!', 'YWJj\n', 'data:image/png;base64,YWJj']) {
      const res = await s.api('POST', '/documents', { document_data: data, seal: 1, stamps: [stamp('a')] });
      expect(res.status, data).toBe(400);
      expect(res.text).toBe('Field document_data must be base64 (standard alphabet, padded with "=").');
    }
    expect((await s.api('POST', '/documents', { seal: 1 })).text).toBe('Missing required field: document_data.');
    expect((await s.api('POST', '/documents', { document_data: IMAGE })).text).toBe('Missing required field: seal.');
    const withId = await s.api('POST', '/documents', { document_data: IMAGE, seal: 1, stamps: [{ ...stamp('a'), document_id: 1 }] });
    expect(withId.text).toBe('Unknown field: stamps[0].document_id.');
    expect((await s.api('POST', '/documents', { document_data: IMAGE, seal: 1, stamps: [{ stamp_type: 'a', pos_x: 0 }] })).text).toBe(
      'Missing required field: stamps[0].pos_y.',
    );
    expect(await s.counts()).toEqual(before);
  });

  it('accepts an empty image (base64 of no bytes is "", as base64.b64encode(b"") gives) and empty texts', async () => {
    const empty = Buffer.alloc(0).toString('base64');
    expect(empty).toBe('');
    const doc = ok(await s.api('POST', '/documents', { document_data: empty, seal: 1, stamps: [stamp('')] }));
    expect(doc).toMatchObject({ document_data: '', stamps: [{ stamp_type: '' }] });
    expect(ok(await s.api('GET', `/documents/${doc.document_id}`))).toEqual(doc);
    const other = ok(await s.api('POST', '/documents', { document_data: IMAGE, seal: 2 }));
    expect(ok(await s.api('PATCH', `/documents/${other.document_id}`, { document_data: '' })).document_data).toBe('');
    expect(ok(await s.api('GET', `/documents/${other.document_id}`)).document_data).toBe('');
    const event = ok(
      await s.api('POST', '/events', {
        event_type: 'plain',
        message: '',
        occurred_at: '2025-06-08T20:12:00+10:00',
        user: { twitch_id: 'empty-name', name: '' },
        document: { document_data: '', seal: 3 },
      }),
    );
    expect(event).toMatchObject({ message: '', user_name: '', user: { name: '' }, document: { document_data: '', seal: 3 } });
    expect(ok(await s.api('PATCH', `/stamps/${doc.stamps[0].stamp_id}`, { stamp_type: '' })).stamp_type).toBe('');
    // The one text that may not be empty: a twitch_id (the key POST /users upserts by).
    const before = await s.counts();
    expect((await s.api('POST', '/users', { twitch_id: '', name: 'x' })).text).toBe('Field twitch_id must not be empty.');
    expect((await s.api('PATCH', `/users/${event.user_id}`, { twitch_id: '' })).text).toBe('Field twitch_id must not be empty.');
    expect(await s.counts()).toEqual(before);
  });

  it('accepts images larger than the server-wide 1 MiB JSON limit, up to 16 MiB', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 7).toString('base64');
    const doc = ok(await s.api('POST', '/documents', { document_data: big, seal: 1 }));
    expect(ok(await s.api('GET', `/documents/${doc.document_id}`)).document_data).toBe(big);
    const tooBig = await s.api('POST', '/documents', { document_data: 'A'.repeat(17 * 1024 * 1024), seal: 1 });
    expect(tooBig.status).toBe(413);
    expect(tooBig.headers['content-type']).toMatch(/^text\/plain/);
    ok(await s.api('DELETE', `/documents/${doc.document_id}`));
  });

  it('PATCH changes data, seal and metadata, and a stamps list replaces all stamps', async () => {
    const doc = ok(await s.api('POST', '/documents', { document_data: IMAGE, seal: 1, stamps: [stamp('a'), stamp('b')] }));
    const other = Buffer.from('another image').toString('base64');
    const patched = ok(await s.api('PATCH', `/documents/${doc.document_id}`, { document_data: other, seal: 2, metadata: 'm2' }));
    expect(patched).toMatchObject({ document_data: other, seal: 2, metadata: 'm2', created_at: doc.created_at });
    expect(patched.stamps).toEqual(doc.stamps);
    const replaced = ok(await s.api('PATCH', `/documents/${doc.document_id}`, { stamps: [stamp('c', 9, 9, 3.14)] }));
    expect(replaced.stamps).toEqual([{ stamp_id: expect.any(Number), document_id: doc.document_id, stamp_type: 'c', pos_x: 9, pos_y: 9, rotation: 3.14 }]);
    for (const old of doc.stamps) expect((await s.api('GET', `/stamps/${old.stamp_id}`)).status).toBe(404);
    expect(ok(await s.api('PATCH', `/documents/${doc.document_id}`, { stamps: [] })).stamps).toEqual([]);
    expect((await s.api('PATCH', `/documents/${doc.document_id}`, { document_data: 'not base64!' })).status).toBe(400);
    expect((await s.api('PATCH', `/documents/${doc.document_id}`, { created_at: '2025-01-01' })).text).toBe(
      'Field created_at cannot be set here (allowed: document_data, seal, metadata, stamps).',
    );
    expect(ok(await s.api('GET', `/documents/${doc.document_id}`)).document_data).toBe(other);
  });

  it('DELETE removes the document and its stamps, not the event that used it', async () => {
    const event = ok(
      await s.api('POST', '/events', {
        event_type: 'plain',
        occurred_at: '2025-06-08T20:12:00+10:00',
        message: 'with a document',
        document: { document_data: IMAGE, seal: 4, stamps: [stamp('x')] },
      }),
    );
    const doc = event.document;
    const deleted = ok(await s.api('DELETE', `/documents/${doc.document_id}`));
    expect(deleted).toEqual(doc);
    expect((await s.api('GET', `/documents/${doc.document_id}`)).status).toBe(404);
    expect((await s.api('GET', `/stamps/${doc.stamps[0].stamp_id}`)).status).toBe(404);
    const kept = ok(await s.api('GET', `/events/${event.event_id}`));
    expect(kept).toMatchObject({ event_id: event.event_id, document_id: null, document: null, message: 'with a document' });
  });

  it('adds one stamp with POST /stamps and a list with PUT /stamps', async () => {
    const d1 = ok(await s.api('POST', '/documents', { document_data: IMAGE, seal: 1 }));
    const d2 = ok(await s.api('POST', '/documents', { document_data: IMAGE, seal: 1 }));
    const one = ok(await s.api('POST', '/stamps', { document_id: d1.document_id, stamp_type: 'Approve', pos_x: 0, pos_y: 0, rotation: 0.0 }));
    expect(one).toEqual({ stamp_id: expect.any(Number), document_id: d1.document_id, stamp_type: 'Approve', pos_x: 0, pos_y: 0, rotation: 0 });
    const many = ok(
      await s.api('PUT', '/stamps', [
        { document_id: d1.document_id, ...stamp('a', 1, 1) },
        { document_id: d2.document_id, ...stamp('b', 2, 2, -0.5) },
      ]),
    );
    expect(many.map((x: any) => [x.document_id, x.stamp_type, x.rotation])).toEqual([
      [d1.document_id, 'a', 0],
      [d2.document_id, 'b', -0.5],
    ]);
    expect(ok(await s.api('PUT', '/stamps', []))).toEqual([]);
    expect(ok(await s.api('GET', `/documents/${d1.document_id}`)).stamps.map((x: any) => x.stamp_type)).toEqual(['Approve', 'a']);
    // One bad item (a missing document) rolls back the whole list.
    const before = (await s.counts()).stamps;
    const bad = await s.api('PUT', '/stamps', [{ document_id: d1.document_id, ...stamp('ok') }, { document_id: 99999, ...stamp('bad') }]);
    expect(bad.status).toBe(400);
    expect(bad.text).toBe('Document 99999 does not exist.');
    expect((await s.counts()).stamps).toBe(before);
    expect((await s.api('PUT', '/stamps', { document_id: d1.document_id, ...stamp('x') })).text).toBe('The body must be an array.');
    expect((await s.api('POST', '/stamps', stamp('x'))).text).toBe('Missing required field: document_id.');
    const tooMany = Array.from({ length: 10_001 }, () => ({ document_id: d1.document_id, ...stamp('x') }));
    expect((await s.api('PUT', '/stamps', tooMany)).text).toBe('Send at most 10000 items per request.');
  });

  it('POST and PUT on /documents/{id}/stamps and /events/{id}/document/stamps add to that document', async () => {
    const doc = ok(await s.api('POST', '/documents', { document_data: IMAGE, seal: 1 }));
    ok(await s.api('POST', `/documents/${doc.document_id}/stamps`, stamp('one')));
    ok(await s.api('PUT', `/documents/${doc.document_id}/stamps`, [stamp('two'), stamp('three')]));
    const event = ok(await s.api('POST', '/events', { event_type: 'raid', viewer_count: 12, occurred_at: '2025-06-08T20:12:00Z', document_id: doc.document_id }));
    ok(await s.api('POST', `/events/${event.event_id}/document/stamps`, stamp('four')));
    const put = ok(await s.api('PUT', `/events/${event.event_id}/document/stamps`, [stamp('five', 5, 5)]));
    expect(put[0].document_id).toBe(doc.document_id);
    expect(ok(await s.api('GET', `/events/${event.event_id}/document/stamps`)).map((x: any) => x.stamp_type)).toEqual(['one', 'two', 'three', 'four', 'five']);
    const clash = await s.api('POST', `/documents/${doc.document_id}/stamps`, { document_id: doc.document_id + 1000, ...stamp('x') });
    expect(clash.status).toBe(400);
    const noDoc = ok(await s.api('POST', '/events', { event_type: 'raid', viewer_count: 1, occurred_at: '2025-06-08' }));
    const missing = await s.api('POST', `/events/${noDoc.event_id}/document/stamps`, stamp('x'));
    expect(missing.status).toBe(404);
    expect(missing.text).toBe(`Event ${noDoc.event_id} has no document.`);
  });

  it('PATCH and DELETE a stamp', async () => {
    const d1 = ok(await s.api('POST', '/documents', { document_data: IMAGE, seal: 1, stamps: [stamp('move me')] }));
    const d2 = ok(await s.api('POST', '/documents', { document_data: IMAGE, seal: 1 }));
    const id = d1.stamps[0].stamp_id;
    const patched = ok(await s.api('PATCH', `/stamps/${id}`, { pos_x: 7, rotation: 2.5, document_id: d2.document_id }));
    expect(patched).toEqual({ stamp_id: id, document_id: d2.document_id, stamp_type: 'move me', pos_x: 7, pos_y: 0, rotation: 2.5 });
    expect((await s.api('PATCH', `/stamps/${id}`, { document_id: 424242 })).text).toBe('Document 424242 does not exist.');
    expect(ok(await s.api('DELETE', `/documents/${d2.document_id}/stamps/${id}`))).toEqual(patched);
    expect(ok(await s.api('GET', `/documents/${d2.document_id}`)).stamps).toEqual([]);
  });

  it('filters documents (stamp_type: at least one such stamp) and stamps', async () => {
    const a = ok(await s.api('POST', '/documents', { document_data: IMAGE, seal: 77, metadata: 'first', stamps: [stamp('gold'), stamp('gold'), stamp('silver')] }));
    const b = ok(await s.api('POST', '/documents', { document_data: IMAGE, seal: 77, metadata: 'second', stamps: [stamp('silver')] }));
    const ids = async (q: string) => ok(await s.api('GET', `/documents?seal=77${q}`)).map((d: any) => d.document_id);
    expect(await ids('')).toEqual([a.document_id, b.document_id]);
    expect(await ids('&stamp_type=gold')).toEqual([a.document_id]);
    expect(await ids('&stamp_type=silver')).toEqual([a.document_id, b.document_id]);
    expect(await ids('&stamp_type=bronze')).toEqual([]);
    expect(await ids('&metadata=second')).toEqual([b.document_id]);
    expect(await ids(`&document_id=${b.document_id}`)).toEqual([b.document_id]);
    expect(await ids('&created_after=2000-01-01&created_before=2999-01-01')).toEqual([a.document_id, b.document_id]);
    expect(await ids('&created_before=2000-01-01')).toEqual([]);
    const listed = ok(await s.api('GET', '/documents?seal=77&stamp_type=gold'));
    expect(listed[0].stamps).toHaveLength(3); // the filter selects documents, not stamps
    const stamps = ok(await s.api('GET', `/stamps?document_id=${a.document_id}&stamp_type=gold`));
    expect(stamps.map((x: any) => x.stamp_type)).toEqual(['gold', 'gold']);
    expect(ok(await s.api('GET', `/stamps?stamp_id=${stamps[1].stamp_id}`))).toEqual([stamps[1]]);
    expect((await s.api('GET', '/documents?seal=high')).status).toBe(400);
    expect((await s.api('GET', '/stamps?rotation=0')).status).toBe(400);
  });
});

describe.each(DIALECTS)('dreamspace stamps of many documents (%s)', (dialect) => {
  it('fetches them in chunks of document IDs, grouped and in order', async () => {
    const s = await spaceApp(dialect);
    try {
      const docs = [];
      for (let i = 0; i < 5; i++) {
        const stamps = Array.from({ length: i }, (_, k) => stamp(`t${k}`, k, i));
        docs.push(ok(await s.api('POST', '/documents', { document_data: IMAGE, seal: i, stamps })));
      }
      const ids = [null, ...docs.map((d) => d.document_id).reverse(), docs[2].document_id];
      const byDocument = await stampsOf(s.t.database.db as SpaceKysely, ids, 2);
      for (const doc of docs) expect(byDocument.get(doc.document_id) ?? []).toEqual(doc.stamps);
      expect([...byDocument.keys()].sort()).toEqual(docs.slice(1).map((d) => d.document_id).sort());
    } finally {
      await s.close();
    }
  });
});
