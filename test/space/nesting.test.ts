import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/app.js';
import { IMAGE, ok, spaceApp, type SpaceTest } from './helpers.js';

// Relations nest to any depth, walked from the relation table; each level adds a filter.
describe.each(DIALECTS)('dreamspace nested paths (%s)', (dialect) => {
  let s: SpaceTest;
  let user: any;
  let specimen: any;
  let event: any;
  let tx: any;
  beforeAll(async () => {
    s = await spaceApp(dialect);
    event = ok(
      await s.api('POST', '/events', {
        event_type: 'subscriber',
        tier: 1,
        subscribed_length: 3,
        occurred_at: '2025-06-08T20:12:00+10:00',
        user: { twitch_id: 'n-1', name: 'nester' },
        document: { document_data: IMAGE, seal: 5, stamps: [{ stamp_type: 'a', pos_x: 1, pos_y: 2 }, { stamp_type: 'b', pos_x: 3, pos_y: 4 }] },
      }),
    );
    user = ok(await s.api('GET', `/users/${event.user_id}`));
    specimen = ok(await s.api('POST', `/users/${user.user_id}/specimens`, { born_at: '2025-01-01' }));
    tx = ok(await s.api('POST', `/users/${user.user_id}/transactions`, { amount: 10, description: 'pocket money' }));
  });
  afterAll(async () => s.close());

  it('walks /events/1/user/specimen/owner and other deep paths', async () => {
    const full = ok(await s.api('GET', `/users/${user.user_id}`));
    expect(full.wallet).toBe(10);
    expect(ok(await s.api('GET', `/events/${event.event_id}/user`))).toEqual(full);
    expect(ok(await s.api('GET', `/events/${event.event_id}/user/specimen`))).toEqual(ok(await s.api('GET', `/specimens/${specimen.specimen_id}`)));
    expect(ok(await s.api('GET', `/events/${event.event_id}/user/specimen/owner`))).toEqual(full);
    expect(ok(await s.api('GET', `/events/${event.event_id}/user/specimen/owner/specimen/owner/transactions`))).toEqual([tx]);
    expect(ok(await s.api('GET', `/events/${event.event_id}/user/transactions/${tx.transaction_id}/user/events`))).toEqual([event]);
    expect(ok(await s.api('GET', `/events/${event.event_id}/document`))).toEqual(event.document);
    expect(ok(await s.api('GET', `/events/${event.event_id}/document/stamps`))).toEqual(event.document.stamps);
    const stampId = event.document.stamps[1].stamp_id;
    expect(ok(await s.api('GET', `/events/${event.event_id}/document/stamps/${stampId}`))).toEqual(event.document.stamps[1]);
    expect(ok(await s.api('GET', `/events/${event.event_id}/document/stamps/${stampId}/document/stamps?stamp_type=a`))).toEqual([event.document.stamps[0]]);
    expect(ok(await s.api('GET', `/specimens/${specimen.specimen_id}/owner/events/${event.event_id}/document`))).toEqual(event.document);
    expect(ok(await s.api('GET', `/users/${user.user_id}/events?event_type=subscriber`))).toEqual([event]);
    expect(ok(await s.api('GET', `/users/${user.user_id}/specimens`))).toEqual([ok(await s.api('GET', `/specimens/${specimen.specimen_id}`))]);
    // Trailing slashes and percent-encoding do not matter.
    expect(ok(await s.api('GET', `/events/${event.event_id}/user/`))).toEqual(full);
    expect(ok(await s.api('GET', `/%65vents/${event.event_id}/user`))).toEqual(full);
  });

  it('names the first missing step in the 404', async () => {
    const lonely = ok(await s.api('POST', '/events', { event_type: 'raid', viewer_count: 1, occurred_at: '2025-06-08' }));
    const bare = ok(await s.api('POST', '/users', { twitch_id: 'n-2', name: 'bare' }));
    const cases: [string, string][] = [
      ['/events/999999/user/specimen/owner', 'Event 999999 not found.'],
      [`/events/${lonely.event_id}/user/specimen/owner`, `Event ${lonely.event_id} has no user.`],
      [`/events/${lonely.event_id}/document/stamps`, `Event ${lonely.event_id} has no document.`],
      [`/users/${bare.user_id}/specimen/owner`, `User ${bare.user_id} has no current specimen.`],
      [`/users/${bare.user_id}/specimen`, `User ${bare.user_id} has no current specimen.`],
      [`/users/${bare.user_id}/transactions/${tx.transaction_id}`, `Transaction ${tx.transaction_id} not found for user ${bare.user_id}.`],
      [`/users/${bare.user_id}/transactions/${tx.transaction_id}/user`, `Transaction ${tx.transaction_id} not found for user ${bare.user_id}.`],
      ['/users/999999/transactions', 'User 999999 not found.'],
      ['/documents/999999/stamps', 'Document 999999 not found.'],
    ];
    for (const [path, message] of cases) {
      const res = await s.api('GET', path);
      expect(res.status, path).toBe(404);
      expect(res.text).toBe(message);
    }
    // Filters apply to single objects too.
    expect(ok(await s.api('GET', `/users/${user.user_id}?twitch_id=n-1`)).user_id).toBe(user.user_id);
    const mismatch = await s.api('GET', `/users/${user.user_id}?twitch_id=n-2`);
    expect(mismatch.status).toBe(404);
    expect(mismatch.text).toBe(`User ${user.user_id} does not match the filters.`);
    // An existing parent with no children is an empty list, not a 404.
    expect(ok(await s.api('GET', `/users/${bare.user_id}/transactions`))).toEqual([]);
    expect(ok(await s.api('GET', `/users/${user.user_id}/transactions?description=nothing`))).toEqual([]);
    // Errors in a deep path are found before the database is asked.
    expect((await s.api('GET', `/events/999999/user/friends`)).text).toMatch(/^Unknown relation "friends" of users/);
    expect((await s.api('GET', `/events/999999/user/transactions/x`)).status).toBe(400);
    expect((await s.api('GET', `/events${'/1/user/specimen/owner'.repeat(10)}`)).text).toMatch(/^The path is too deep/);
  });

  it('writes through nested paths: PATCH and DELETE the object a path names', async () => {
    const patched = ok(await s.api('PATCH', `/events/${event.event_id}/user`, { preferences: 'via event' }));
    expect(patched).toMatchObject({ user_id: user.user_id, preferences: 'via event' });
    const sp = ok(await s.api('POST', `/events/${event.event_id}/user/specimens`, { born_at: '2025-05-05' }));
    expect(sp.owner_id).toBe(user.user_id);
    expect(ok(await s.api('GET', `/events/${event.event_id}/user/specimen`)).specimen_id).toBe(sp.specimen_id);
    const forgotten = ok(await s.api('PATCH', `/events/${event.event_id}/user/specimen`, { forgotten_at: '2025-06-01' }));
    expect(forgotten.specimen_id).toBe(sp.specimen_id);
    expect(ok(await s.api('GET', `/events/${event.event_id}/user/specimen`)).specimen_id).toBe(specimen.specimen_id);
    const stamp = ok(await s.api('POST', `/events/${event.event_id}/document/stamps`, { stamp_type: 'late', pos_x: 0, pos_y: 0 }));
    expect(ok(await s.api('DELETE', `/events/${event.event_id}/document/stamps/${stamp.stamp_id}`))).toEqual(stamp);
    expect((await s.api('DELETE', `/documents/${event.document_id}/stamps/${stamp.stamp_id}`)).status).toBe(404);
    expect((await s.api('POST', `/events/${event.event_id}/user`, {})).status).toBe(405);
    expect((await s.api('PUT', `/users/${user.user_id}/transactions`, [])).status).toBe(405);
    expect((await s.api('DELETE', `/users/${user.user_id}/transactions/${tx.transaction_id}`)).status).toBe(405);
  });
});

// A PATCH through a nested path changes the object the path names, in the parent the path names: a body that
// would move it to another parent is a 400, as it is on a POST there, and nothing changes.
describe.each(DIALECTS)('dreamspace nested PATCH keeps the path (%s)', (dialect) => {
  let s: SpaceTest;
  beforeAll(async () => {
    s = await spaceApp(dialect);
  });
  afterAll(async () => s.close());

  it('PATCH /documents/1/stamps/S {document_id: 2} is a 400; the same ID (or none) is fine; /stamps/S may move it', async () => {
    const one = ok(await s.api('POST', '/documents', { document_data: IMAGE, seal: 1, stamps: [{ stamp_type: 'a', pos_x: 1, pos_y: 1 }] }));
    const two = ok(await s.api('POST', '/documents', { document_data: IMAGE, seal: 2 }));
    const stamp = one.stamps[0];
    const event = ok(await s.api('POST', '/events', { event_type: 'plain', message: 'm', occurred_at: '2025-06-08', document_id: one.document_id }));
    for (const path of [`/documents/${one.document_id}/stamps/${stamp.stamp_id}`, `/events/${event.event_id}/document/stamps/${stamp.stamp_id}`]) {
      const moved = await s.api('PATCH', path, { document_id: two.document_id, pos_x: 99 });
      expect(moved.status, path).toBe(400);
      expect(moved.text).toBe(`Field document_id is ${two.document_id} but the path says ${one.document_id}.`);
    }
    expect(ok(await s.api('GET', `/stamps/${stamp.stamp_id}`))).toEqual(stamp);
    expect(ok(await s.api('GET', `/documents/${two.document_id}/stamps`))).toEqual([]);
    expect(ok(await s.api('GET', `/documents/${one.document_id}`)).stamps).toEqual([stamp]);

    const same = ok(await s.api('PATCH', `/documents/${one.document_id}/stamps/${stamp.stamp_id}`, { document_id: one.document_id, pos_x: 7 }));
    expect(same).toEqual({ ...stamp, pos_x: 7 });
    expect(ok(await s.api('GET', `/stamps/${stamp.stamp_id}`))).toEqual({ ...stamp, pos_x: 7 });
    // Not through a parent: the documented PATCH of any field, document_id included.
    const top = ok(await s.api('PATCH', `/stamps/${stamp.stamp_id}`, { document_id: two.document_id }));
    expect(top.document_id).toBe(two.document_id);
    expect(ok(await s.api('GET', `/documents/${two.document_id}/stamps`))).toEqual([{ ...stamp, pos_x: 7, document_id: two.document_id }]);
  });

  it('PATCH /users/1/specimens/S {owner_id: 3} and /users/1/specimen {owner_id: 3} are a 400; nothing changes', async () => {
    const owner = ok(await s.api('POST', '/users', { twitch_id: 'owner', name: 'owner' }));
    const other = ok(await s.api('POST', '/users', { twitch_id: 'other', name: 'other' }));
    const specimen = ok(await s.api('POST', `/users/${owner.user_id}/specimens`, { born_at: '2025-01-01T00:00:00+00:00' }));
    for (const path of [`/users/${owner.user_id}/specimens/${specimen.specimen_id}`, `/users/${owner.user_id}/specimen`]) {
      const moved = await s.api('PATCH', path, { owner_id: other.user_id, forgotten_at: '2025-02-01T00:00:00+00:00' });
      expect(moved.status, path).toBe(400);
      expect(moved.text).toBe(`Field owner_id is ${other.user_id} but the path says ${owner.user_id}.`);
    }
    expect(ok(await s.api('GET', `/specimens/${specimen.specimen_id}`))).toEqual(specimen);
    expect(ok(await s.api('GET', `/users/${other.user_id}/specimens`))).toEqual([]);
    expect(ok(await s.api('GET', `/users/${owner.user_id}`)).specimen.specimen_id).toBe(specimen.specimen_id);

    const same = ok(await s.api('PATCH', `/users/${owner.user_id}/specimens/${specimen.specimen_id}`, { owner_id: owner.user_id }));
    expect(same).toEqual(specimen);
    const forgotten = ok(await s.api('PATCH', `/users/${owner.user_id}/specimen`, { owner_id: owner.user_id, forgotten_at: '2025-02-01T00:00:00+00:00' }));
    expect(forgotten).toEqual({ ...specimen, forgotten_at: expect.any(String) });
    expect(ok(await s.api('GET', `/specimens/${specimen.specimen_id}`)).owner_id).toBe(owner.user_id);
  });

  it('PATCH /users/1/events/E {user_id: 2 or null} is a 400; the event keeps its user', async () => {
    const user = ok(await s.api('POST', '/users', { twitch_id: 'ev-user', name: 'ev' }));
    const other = ok(await s.api('POST', '/users', { twitch_id: 'ev-other', name: 'other' }));
    const event = ok(await s.api('POST', `/users/${user.user_id}/events`, { event_type: 'plain', message: 'm', occurred_at: '2025-06-08' }));
    const path = `/users/${user.user_id}/events/${event.event_id}`;
    const moved = await s.api('PATCH', path, { user_id: other.user_id, message: 'changed' });
    expect(moved.status).toBe(400);
    expect(moved.text).toBe(`Field user_id is ${other.user_id} but the path says ${user.user_id}.`);
    const dropped = await s.api('PATCH', path, { user_id: null });
    expect(dropped.status).toBe(400);
    expect(dropped.text).toBe(`Field user_id is null but the path says ${user.user_id}.`);
    expect(ok(await s.api('GET', `/events/${event.event_id}`))).toEqual(event);
    expect(ok(await s.api('PATCH', path, { user_id: user.user_id, message: 'kept' }))).toEqual({ ...event, message: 'kept' });
  });

  it('POST /users/1/events {user_id: null} is a 400 like the PATCH (an event without a user is not one of user 1); nothing is stored', async () => {
    const user = ok(await s.api('POST', '/users', { twitch_id: 'ev-null', name: 'ev' }));
    const before = await s.counts();
    const dropped = await s.api('POST', `/users/${user.user_id}/events`, { event_type: 'plain', message: 'm', occurred_at: '2025-06-08', user_id: null });
    expect(dropped.status).toBe(400);
    expect(dropped.text).toBe(`Field user_id is null but the path says ${user.user_id}.`);
    expect(await s.counts()).toEqual(before);
    const same = ok(await s.api('POST', `/users/${user.user_id}/events`, { event_type: 'plain', message: 'm', occurred_at: '2025-06-08', user_id: user.user_id }));
    expect(same.user_id).toBe(user.user_id);
  });
});
