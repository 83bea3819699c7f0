import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/app.js';
import { IMAGE, ok, spaceApp, TIMESTAMP, type SpaceTest } from './helpers.js';

/** What stays the same between two runs of the documented flow (IDs and creation times differ). */
function shape(event: any) {
  const { event_id, document_id, user_id, created_at, document, user, ...rest } = event;
  return {
    ...rest,
    document: document && { ...document, document_id: 'ID', created_at: 'T', stamps: document.stamps.map((x: any) => ({ ...x, stamp_id: 'ID', document_id: 'ID' })) },
    user: user && { ...user, user_id: 'ID', created_at: 'T' },
    ids: [typeof event_id, typeof document_id, typeof user_id, typeof created_at],
  };
}

describe.each(DIALECTS)('dreamspace events (%s)', (dialect) => {
  let s: SpaceTest;
  beforeAll(async () => {
    s = await spaceApp(dialect);
  });
  afterAll(async () => s.close());

  it('the implicit flow (one request) gives the same objects as the four explicit requests', async () => {
    // Explicit, as in the document: user, document, stamp, then the event.
    const user = ok(await s.api('POST', '/users', { twitch_id: '105474571', name: 'alllenski' }));
    const document = ok(await s.api('POST', '/documents', { document_data: IMAGE, seal: 1, metadata: 'Some arbitrary metadata' }));
    const stamp = ok(await s.api('POST', '/stamps', { document_id: document.document_id, stamp_type: 'Approve', pos_x: 0, pos_y: 0, rotation: 0.0 }));
    const explicit = ok(
      await s.api('POST', '/events', {
        document_id: document.document_id,
        user_id: user.user_id,
        user_name: 'alllenski',
        occurred_at: '2025-06-08T20:12:00+10:00',
        event_type: 'plain',
        message: 'This is a test plain event message.',
      }),
    );
    expect(explicit).toEqual({
      event_id: expect.any(Number),
      document_id: document.document_id,
      document: { ...document, stamps: [stamp] },
      user_id: user.user_id,
      user: { user_id: user.user_id, twitch_id: '105474571', name: 'alllenski', preferences: null, created_at: user.created_at },
      user_name: 'alllenski',
      occurred_at: '2025-06-08T10:12:00+00:00',
      created_at: expect.stringMatching(TIMESTAMP),
      event_type: 'plain',
      message: 'This is a test plain event message.',
    });
    expect(Object.keys(explicit)).toEqual(['event_id', 'document_id', 'document', 'user_id', 'user', 'user_name', 'occurred_at', 'created_at', 'event_type', 'message']);

    // Implicit, for a new viewer: everything in one request.
    const before = await s.counts();
    const implicit = ok(
      await s.api('POST', '/events', {
        document: {
          document_data: IMAGE,
          seal: 1,
          metadata: 'Some arbitrary metadata',
          stamps: [{ stamp_type: 'Approve', pos_x: 0, pos_y: 0, rotation: 0.0 }],
        },
        user: { twitch_id: '999000111', name: 'alllenski' },
        user_name: 'alllenski',
        occurred_at: '2025-06-08T20:12:00+10:00',
        event_type: 'plain',
        message: 'This is a test plain event message.',
      }),
    );
    expect(shape(implicit)).toEqual({ ...shape(explicit), user: { ...shape(explicit).user, twitch_id: '999000111' } });
    expect(await s.counts()).toEqual({ ...before, users: before.users + 1, documents: before.documents + 1, stamps: before.stamps + 1, events: before.events + 1 });
    // The implicitly created objects are real objects of their own.
    expect(ok(await s.api('GET', `/users/${implicit.user_id}`))).toMatchObject(implicit.user);
    expect(ok(await s.api('GET', `/documents/${implicit.document_id}`))).toEqual(implicit.document);
    expect(ok(await s.api('GET', `/events/${implicit.event_id}`))).toEqual(implicit);

    // The same request for an existing twitch_id reuses (and updates) that user.
    const again = ok(
      await s.api('POST', '/events', {
        user: { twitch_id: '105474571', name: 'alllenski2' },
        occurred_at: '2025-06-08T21:00:00+10:00',
        event_type: 'plain',
        message: 'again',
      }),
    );
    expect(again.user_id).toBe(user.user_id);
    expect(again.user.name).toBe('alllenski2');
    expect(again.user_name).toBe('alllenski2'); // defaults to the user's name
    const anonymous = ok(await s.api('POST', '/events', { user_id: user.user_id, user_name: null, occurred_at: '2025-06-08', event_type: 'plain', message: 'm' }));
    expect(anonymous.user_name).toBeNull(); // unless null is asked for
    expect(again.document).toBeNull();
  });

  it('checks the fields of each event type', async () => {
    const at = '2025-06-08T20:12:00+10:00';
    const sub = ok(await s.api('POST', '/events', { event_type: 'subscriber', occurred_at: at, tier: 2, subscribed_length: 14 }));
    expect(sub).toMatchObject({ event_type: 'subscriber', tier: 2, subscribed_length: 14, message: null, user: null, user_id: null, user_name: null });
    expect(Object.keys(sub).slice(-3)).toEqual(['tier', 'subscribed_length', 'message']);
    const cheer = ok(await s.api('POST', '/events', { event_type: 'cheer', occurred_at: at, amount: 100, message: 'Cheer100' }));
    expect(cheer).toMatchObject({ event_type: 'cheer', amount: 100, message: 'Cheer100' });
    expect(cheer.tier).toBeUndefined();
    const raid = ok(await s.api('POST', '/events', { event_type: 'raid', occurred_at: at, viewer_count: 42 }));
    expect(raid).toMatchObject({ event_type: 'raid', viewer_count: 42 });
    expect(raid.message).toBeUndefined();

    const before = await s.counts();
    const cases: [object, string][] = [
      [{ event_type: 'plain' }, 'Missing required field: message (required for plain events).'],
      [{ event_type: 'plain', message: null }, 'Field message must not be null for plain events.'],
      [{ event_type: 'subscriber', tier: 1 }, 'Missing required field: subscribed_length (required for subscriber events).'],
      [{ event_type: 'cheer' }, 'Missing required field: amount (required for cheer events).'],
      [{ event_type: 'raid' }, 'Missing required field: viewer_count (required for raid events).'],
      [{ event_type: 'raid', viewer_count: 3, message: 'hi' }, 'Field message does not apply to raid events.'],
      [{ event_type: 'plain', message: 'x', tier: 1 }, 'Field tier does not apply to plain events.'],
      [{ event_type: 'cheer', amount: '100' }, 'Field amount must be an integer.'],
      [{ event_type: 'follow' }, 'Field event_type must be one of: plain, subscriber, cheer, raid.'],
      [{ message: 'x' }, 'Missing required field: event_type.'],
    ];
    for (const [body, message] of cases) {
      const res = await s.api('POST', '/events', { occurred_at: at, ...body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.text).toBe(message);
    }
    const noTime = await s.api('POST', '/events', { event_type: 'plain', message: 'x' });
    expect(noTime.text).toBe('Missing required field: occurred_at.');
    const badTime = await s.api('POST', '/events', { event_type: 'plain', message: 'x', occurred_at: '8 June 2025' });
    expect(badTime.text).toMatch(/^Field occurred_at must be an ISO 8601 date-time/);
    expect(await s.counts()).toEqual(before);
  });

  it('rolls back every part of an implicit create when any part is invalid', async () => {
    const before = await s.counts();
    const base = { event_type: 'plain', message: 'x', occurred_at: '2025-06-08T20:12:00+10:00' };
    const document = { document_data: IMAGE, seal: 1, stamps: [{ stamp_type: 'a', pos_x: 0, pos_y: 0 }] };
    const cases: [object, number, string][] = [
      // The user is upserted first, then the missing document is found: the user goes away again.
      [{ ...base, user: { twitch_id: 'rb-1', name: 'rb' }, document_id: 424242 }, 400, 'Document 424242 does not exist.'],
      // The document and its stamps are written, then the missing user is found.
      [{ ...base, user_id: 424242, document }, 400, 'User 424242 does not exist.'],
      // A bad stamp, a bad base64, a bad type field: caught before anything is written.
      [{ ...base, user: { twitch_id: 'rb-2', name: 'rb' }, document: { ...document, stamps: [{ stamp_type: 'a', pos_x: 0 }] } }, 400, 'Missing required field: document.stamps[0].pos_y.'],
      [{ ...base, user: { twitch_id: 'rb-3', name: 'rb' }, document: { ...document, document_data: 'nope!' } }, 400, 'Field document_data must be base64 (standard alphabet, padded with "=").'],
      [{ ...base, user: { twitch_id: 'rb-4', name: 'rb' }, document, tier: 3 }, 400, 'Field tier does not apply to plain events.'],
      [{ ...base, user: { twitch_id: 'rb-5' }, document }, 400, 'Missing required field: user.name.'],
      [{ ...base, user: { twitch_id: 'rb-6', name: 'rb' }, user_id: 1 }, 400, 'Give user_id or user, not both.'],
      [{ ...base, document, document_id: 1 }, 400, 'Give document_id or document, not both.'],
    ];
    for (const [body, status, message] of cases) {
      const res = await s.api('POST', '/events', body);
      expect(res.status, message).toBe(status);
      expect(res.text).toBe(message);
    }
    expect(await s.counts()).toEqual(before);
    expect(ok(await s.api('GET', '/users?twitch_id=rb-1'))).toEqual([]);
  });

  it('leaves an existing user untouched when the implicit create fails', async () => {
    const user = ok(await s.api('POST', '/users', { twitch_id: 'keep-1', name: 'original', preferences: 'p' }));
    const res = await s.api('POST', '/events', {
      event_type: 'plain',
      message: 'x',
      occurred_at: '2025-06-08',
      user: { twitch_id: 'keep-1', name: 'renamed', preferences: null },
      document_id: 515151,
    });
    expect(res.status).toBe(400);
    expect(ok(await s.api('GET', `/users/${user.user_id}`))).toEqual(user);
  });

  it('PATCH changes the message and other fields, but not the type', async () => {
    const event = ok(await s.api('POST', '/events', { event_type: 'cheer', amount: 5, occurred_at: '2025-06-08T20:12:00+10:00' }));
    const user = ok(await s.api('POST', '/users', { twitch_id: 'ev-p', name: 'late' }));
    const doc = ok(await s.api('POST', '/documents', { document_data: IMAGE, seal: 9 }));
    const patched = ok(
      await s.api('PATCH', `/events/${event.event_id}`, {
        message: 'This is a new message',
        amount: 500,
        user_id: user.user_id,
        user_name: 'late',
        occurred_at: '2025-06-09T00:00:00Z',
        document_id: doc.document_id,
      }),
    );
    expect(patched).toMatchObject({
      event_id: event.event_id,
      event_type: 'cheer',
      message: 'This is a new message',
      amount: 500,
      user_id: user.user_id,
      user: { name: 'late' },
      occurred_at: '2025-06-09T00:00:00+00:00',
      document: { document_id: doc.document_id, seal: 9 },
      created_at: event.created_at,
    });
    const cleared = ok(await s.api('PATCH', `/events/${event.event_id}`, { user_id: null, document_id: null, message: null }));
    expect(cleared).toMatchObject({ user_id: null, user: null, document_id: null, document: null, message: null, user_name: 'late' });
    const cases: [object, string][] = [
      [{ event_type: 'plain' }, 'Field event_type cannot be set here (allowed: user_id, user_name, occurred_at, document_id, message, tier, subscribed_length, amount, viewer_count).'],
      [{ tier: 1 }, 'Field tier does not apply to cheer events.'],
      [{ amount: null }, 'Field amount must be an integer.'],
      [{ user_id: 777777 }, 'User 777777 does not exist.'],
      [{ document_id: 777777 }, 'Document 777777 does not exist.'],
      [{ occurred_at: 'later' }, 'Field occurred_at must be an ISO 8601 date-time, e.g. 2025-06-08T20:12:00+10:00 (got "later").'],
      [{ user: { twitch_id: '1', name: 'x' } }, expect.stringMatching(/^Field user cannot be set here/) as unknown as string],
    ];
    for (const [body, message] of cases) {
      const res = await s.api('PATCH', `/events/${event.event_id}`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.text).toEqual(message);
    }
    const plain = ok(await s.api('POST', '/events', { event_type: 'plain', message: 'm', occurred_at: '2025-06-08' }));
    expect((await s.api('PATCH', `/events/${plain.event_id}`, { message: null })).text).toBe('Field message must not be null for plain events.');
    expect(ok(await s.api('GET', `/events/${event.event_id}`))).toEqual(cleared);
  });

  it('DELETE answers the event as it was and keeps its document and user', async () => {
    const event = ok(
      await s.api('POST', '/events', {
        event_type: 'plain',
        message: 'doomed',
        occurred_at: '2025-06-08',
        user: { twitch_id: 'ev-d', name: 'stays' },
        document: { document_data: IMAGE, seal: 2, stamps: [{ stamp_type: 'a', pos_x: 1, pos_y: 1 }] },
      }),
    );
    expect(ok(await s.api('DELETE', `/events/${event.event_id}`))).toEqual(event);
    expect((await s.api('GET', `/events/${event.event_id}`)).status).toBe(404);
    expect(ok(await s.api('GET', `/documents/${event.document_id}`))).toEqual(event.document);
    expect(ok(await s.api('GET', `/users/${event.user_id}`)).name).toBe('stays');
  });

  it('filters by every documented field', async () => {
    const existing = ok(await s.api('GET', '/events'));
    const since = existing.length ? existing[existing.length - 1].event_id : 0;
    const u1 = ok(await s.api('POST', '/users', { twitch_id: 'ev-f1', name: 'one' }));
    const u2 = ok(await s.api('POST', '/users', { twitch_id: 'ev-f2', name: 'two' }));
    const post = async (body: object) => ok(await s.api('POST', '/events', body));
    const e1 = await post({ event_type: 'plain', message: 'a', occurred_at: '2031-01-01T10:00:00Z', user_id: u1.user_id, document: { document_data: IMAGE, seal: 31 } });
    const e2 = await post({ event_type: 'cheer', amount: 1, occurred_at: '2031-02-01T10:00:00Z', user_id: u2.user_id, user_name: 'alias', document: { document_data: IMAGE, seal: 32 } });
    const e3 = await post({ event_type: 'plain', message: 'c', occurred_at: '2031-03-01T10:00:00Z', user_id: u2.user_id });
    const ids = async (q: string) => ok(await s.api('GET', `/events?after=${since}&${q}`)).map((e: any) => e.event_id);
    expect(await ids('')).toEqual([e1.event_id, e2.event_id, e3.event_id]);
    expect(await ids('event_type=plain')).toEqual([e1.event_id, e3.event_id]);
    expect(await ids('event_type=plain&user_id=' + u2.user_id)).toEqual([e3.event_id]);
    expect(await ids('user_name=alias')).toEqual([e2.event_id]);
    expect(await ids('user_name=two')).toEqual([e3.event_id]);
    expect(await ids(`document_id=${e1.document_id}`)).toEqual([e1.event_id]);
    expect(await ids('document_seal=32')).toEqual([e2.event_id]);
    expect(await ids('document_seal=33')).toEqual([]);
    expect(await ids(`event_id=${e2.event_id}`)).toEqual([e2.event_id]);
    expect(await ids('occurred_before=2031-02-01T10:00:00Z')).toEqual([e1.event_id]);
    expect(await ids('occurred_after=2031-02-01T10:00:00Z')).toEqual([e2.event_id, e3.event_id]);
    expect(await ids('occurred_before=2031-02-01T20:00:01%2B10:00')).toEqual([e1.event_id, e2.event_id]);
    // A "+" left unescaped arrives as a space, and is read as the "+" it was.
    expect(await ids('occurred_before=2031-02-01T20:00:01+10:00')).toEqual([e1.event_id, e2.event_id]);
    // So is one after a space between date and time (Python's str() of a datetime), as bodies accept.
    expect(await ids('occurred_before=2031-02-01%2020:00:01+10:00')).toEqual([e1.event_id, e2.event_id]);
    expect(await ids('occurred_before=2031-02-01%2020:00:01%2B10:00')).toEqual([e1.event_id, e2.event_id]);
    expect(await ids('created_after=2000-01-01&created_before=2999-01-01')).toEqual([e1.event_id, e2.event_id, e3.event_id]);
    expect(await ids('created_before=2000-01-01')).toEqual([]);
    expect(ok(await s.api('GET', `/users/${u2.user_id}/events?event_type=cheer`)).map((e: any) => e.event_id)).toEqual([e2.event_id]);
    const bad: [string, string][] = [
      ['event_type=follow', 'Filter event_type must be one of: plain, subscriber, cheer, raid (got "follow").'],
      ['document_seal=x', 'Query parameter document_seal must be an integer (got "x").'],
      ['occurred_after=June', 'Filter occurred_after must be an ISO 8601 date or date-time, e.g. 2025-06-08 or 2025-06-08T20:12:00+10:00 (got "June").'],
      ['message=a', 'Unknown filter message. Known filters: event_id, event_type, user_id, user_name, document_id, document_seal, occurred_after, occurred_before, created_after, created_before, limit, after.'],
    ];
    for (const [q, message] of bad) {
      const res = await s.api('GET', `/events?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.text).toBe(message);
    }
  });

  it('refuses a user object under /users/{id}/events, where the path names the user', async () => {
    const u = ok(await s.api('POST', '/users', { twitch_id: 'ev-s', name: 'scoped' }));
    const e = ok(await s.api('POST', `/users/${u.user_id}/events`, { event_type: 'raid', viewer_count: 3, occurred_at: '2025-06-08' }));
    expect(e).toMatchObject({ user_id: u.user_id, user_name: 'scoped' });
    const res = await s.api('POST', `/users/${u.user_id}/events`, { event_type: 'raid', viewer_count: 3, occurred_at: '2025-06-08', user: { twitch_id: 'x', name: 'x' } });
    expect(res.text).toBe('Field user cannot be given here: the path names the user.');
  });
});
