import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/app.js';
import { IMAGE, ok, spaceApp, TIMESTAMP, type SpaceTest } from './helpers.js';

describe.each(DIALECTS)('dreamspace users (%s)', (dialect) => {
  let s: SpaceTest;
  beforeAll(async () => {
    s = await spaceApp(dialect);
  });
  afterAll(async () => s.close());

  it('creates a user with the documented read-only extras', async () => {
    const user = ok(await s.api('POST', '/users', { twitch_id: '105474571', name: 'alllenski' }));
    expect(user).toEqual({
      user_id: expect.any(Number),
      twitch_id: '105474571',
      name: 'alllenski',
      preferences: null,
      created_at: expect.stringMatching(TIMESTAMP),
      specimen: null,
      inventory: [],
      wallet: null,
    });
    expect(Object.keys(user)).toEqual(['user_id', 'twitch_id', 'name', 'preferences', 'created_at', 'specimen', 'inventory', 'wallet']);
    expect(ok(await s.api('GET', `/users/${user.user_id}`))).toEqual(user);
  });

  it('POST /users with an existing twitch_id updates that user instead of creating one', async () => {
    const first = ok(await s.api('POST', '/users', { twitch_id: 'up-1', name: 'before', preferences: 'dark' }));
    const count = (await s.counts()).users;
    const second = ok(await s.api('POST', '/users', { twitch_id: 'up-1', name: 'after' }));
    expect(second.user_id).toBe(first.user_id);
    expect(second.name).toBe('after');
    expect(second.preferences).toBe('dark'); // not given: kept
    expect(second.created_at).toBe(first.created_at);
    const third = ok(await s.api('POST', '/users', { twitch_id: 'up-1', name: 'after', preferences: null }));
    expect(third.preferences).toBeNull();
    expect((await s.counts()).users).toBe(count);
    expect(ok(await s.api('GET', '/users?twitch_id=up-1'))).toEqual([third]);
  });

  it('requires twitch_id and name on create', async () => {
    expect((await s.api('POST', '/users', { name: 'x' })).text).toBe('Missing required field: twitch_id.');
    expect((await s.api('POST', '/users', { twitch_id: 'x' })).text).toBe('Missing required field: name.');
    expect((await s.api('POST', '/users', { twitch_id: '', name: 'x' })).text).toBe('Field twitch_id must not be empty.');
  });

  it('PATCH changes name, preferences and twitch_id, which may become null', async () => {
    const user = ok(await s.api('POST', '/users', { twitch_id: 'p-1', name: 'pat' }));
    const patched = ok(await s.api('PATCH', `/users/${user.user_id}`, { name: 'patricia', preferences: '{"volume":3}' }));
    expect(patched).toMatchObject({ user_id: user.user_id, twitch_id: 'p-1', name: 'patricia', preferences: '{"volume":3}' });
    const unlinked = ok(await s.api('PATCH', `/users/${user.user_id}`, { twitch_id: null }));
    expect(unlinked.twitch_id).toBeNull();
    expect(ok(await s.api('GET', `/users/${user.user_id}`)).twitch_id).toBeNull();
    // Several users may have no twitch_id at once.
    const other = ok(await s.api('POST', '/users', { twitch_id: 'p-2', name: 'other' }));
    expect(ok(await s.api('PATCH', `/users/${other.user_id}`, { twitch_id: null })).twitch_id).toBeNull();
    // A twitch_id that is free again can be reused by POST, creating a new user.
    const fresh = ok(await s.api('POST', '/users', { twitch_id: 'p-1', name: 'new' }));
    expect(fresh.user_id).not.toBe(user.user_id);
    expect(ok(await s.api('PATCH', `/users/${user.user_id}`, {})).name).toBe('patricia');
  });

  it('PATCH refuses a twitch_id that belongs to someone else and read-only fields', async () => {
    const a = ok(await s.api('POST', '/users', { twitch_id: 'c-1', name: 'a' }));
    const b = ok(await s.api('POST', '/users', { twitch_id: 'c-2', name: 'b' }));
    const res = await s.api('PATCH', `/users/${b.user_id}`, { twitch_id: 'c-1' });
    expect(res.status).toBe(400);
    expect(res.text).toBe(`twitch_id c-1 already belongs to user ${a.user_id}.`);
    expect(ok(await s.api('GET', `/users/${b.user_id}`)).twitch_id).toBe('c-2');
    for (const field of ['wallet', 'created_at', 'user_id', 'specimen', 'inventory']) {
      const r = await s.api('PATCH', `/users/${b.user_id}`, { [field]: 1 });
      expect(r.status).toBe(400);
      expect(r.text).toBe(`Field ${field} cannot be set here (allowed: twitch_id, name, preferences).`);
    }
    expect((await s.api('PATCH', `/users/${b.user_id}`, { twitch_id: '' })).text).toBe('Field twitch_id must not be empty.');
    expect(ok(await s.api('GET', `/users/${b.user_id}`)).twitch_id).toBe('c-2');
  });

  it('computes the wallet as the sum of transaction amounts, negatives included', async () => {
    const user = ok(await s.api('POST', '/users', { twitch_id: 'w-1', name: 'wallet' }));
    expect(ok(await s.api('GET', `/users/${user.user_id}`)).wallet).toBeNull();
    for (const amount of [100, -30, -75, 2]) {
      ok(await s.api('POST', '/transactions', { user_id: user.user_id, amount, description: `t ${amount}` }));
    }
    expect(ok(await s.api('GET', `/users/${user.user_id}`)).wallet).toBe(-3);
    ok(await s.api('POST', `/users/${user.user_id}/transactions`, { amount: 3, description: 'even' }));
    expect(ok(await s.api('GET', `/users/${user.user_id}`)).wallet).toBe(0);
    const listed = ok(await s.api('GET', `/users?user_id=${user.user_id}`));
    expect(listed[0].wallet).toBe(0);
  });

  it('shows the current specimen: the latest born that is not forgotten', async () => {
    const user = ok(await s.api('POST', '/users', { twitch_id: 's-1', name: 'keeper' }));
    const old = ok(await s.api('POST', '/specimens', { owner_id: user.user_id, born_at: '2025-01-01T00:00:00+00:00' }));
    const young = ok(await s.api('POST', '/specimens', { owner_id: user.user_id, born_at: '2025-03-01T00:00:00+00:00' }));
    const got = ok(await s.api('GET', `/users/${user.user_id}`));
    expect(got.specimen).toEqual({
      specimen_id: young.specimen_id,
      owner_id: user.user_id,
      born_at: '2025-03-01T00:00:00+00:00',
      forgotten_at: null,
    });
    ok(await s.api('PATCH', `/specimens/${young.specimen_id}`, { forgotten_at: '2025-04-01T00:00:00+00:00' }));
    expect(ok(await s.api('GET', `/users/${user.user_id}`)).specimen.specimen_id).toBe(old.specimen_id);
    ok(await s.api('PATCH', `/specimens/${old.specimen_id}`, { forgotten_at: '2025-04-02T00:00:00+00:00' }));
    expect(ok(await s.api('GET', `/users/${user.user_id}`)).specimen).toBeNull();
  });

  it('filters by user_id, twitch_id, name and creation time, combined with AND', async () => {
    const a = ok(await s.api('POST', '/users', { twitch_id: 'f-1', name: 'filtered' }));
    const b = ok(await s.api('POST', '/users', { twitch_id: 'f-2', name: 'filtered' }));
    const ids = (list: { user_id: number }[]) => list.map((u) => u.user_id);
    expect(ids(ok(await s.api('GET', '/users?name=filtered')))).toEqual([a.user_id, b.user_id]);
    expect(ids(ok(await s.api('GET', '/users?name=filtered&twitch_id=f-2')))).toEqual([b.user_id]);
    expect(ids(ok(await s.api('GET', `/users?name=filtered&user_id=${a.user_id}`)))).toEqual([a.user_id]);
    expect(ok(await s.api('GET', '/users?name=filtered&twitch_id=f-3'))).toEqual([]);
    expect(ok(await s.api('GET', '/users?name=Filtered'))).toEqual([]);
    const all = ok(await s.api('GET', '/users'));
    expect(ok(await s.api('GET', '/users?created_after=2000-01-01&created_before=2999-01-01'))).toEqual(all);
    expect(ok(await s.api('GET', '/users?created_before=2000-01-01'))).toEqual([]);
    expect(ok(await s.api('GET', '/users?created_after=2999-01-01T00:00:00Z'))).toEqual([]);
    // created_after is inclusive: the exact creation instant matches.
    expect(ids(ok(await s.api('GET', `/users?name=filtered&created_after=${encodeURIComponent(b.created_at)}`)))).toContain(b.user_id);
    expect(ids(ok(await s.api('GET', `/users?name=filtered&created_before=${encodeURIComponent(b.created_at)}`)))).not.toContain(b.user_id);
  });

  it('pages with limit and after (an extension), in ID order', async () => {
    const all = ok(await s.api('GET', '/users'));
    const ids = all.map((u: { user_id: number }) => u.user_id);
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    const first = ok(await s.api('GET', '/users?limit=2'));
    expect(first.map((u: { user_id: number }) => u.user_id)).toEqual(ids.slice(0, 2));
    const next = ok(await s.api('GET', `/users?limit=2&after=${ids[1]}`));
    expect(next.map((u: { user_id: number }) => u.user_id)).toEqual(ids.slice(2, 4));
    expect((await s.api('GET', '/users?limit=0')).status).toBe(400);
    expect((await s.api('GET', '/users?limit=many')).status).toBe(400);
  });

  it('rejects bad filters with a 400', async () => {
    const cases: [string, RegExp][] = [
      ['/users?colour=red', /^Unknown filter colour\. Known filters: user_id, twitch_id, name, created_after, created_before, limit, after\.$/],
      ['/users?user_id=abc', /^Query parameter user_id must be an integer \(got "abc"\)\.$/],
      ['/users?created_after=yesterday', /^Filter created_after must be an ISO 8601 date or date-time/],
      ['/users?created_after=2025-02-30', /^Filter created_after must be an ISO 8601/],
      ['/users?name=a&name=b', /^Query parameter name is given more than once\.$/],
      ['/users/1/transactions?amount=3', /^Unknown filter amount/],
    ];
    for (const [path, message] of cases) {
      const res = await s.api('GET', path);
      expect(res.status, path).toBe(400);
      expect(res.text).toMatch(message);
    }
  });

  it('DELETE answers the user as it was, takes transactions and specimens along, and leaves events', async () => {
    const user = ok(await s.api('POST', '/users', { twitch_id: 'd-1', name: 'doomed' }));
    ok(await s.api('POST', `/users/${user.user_id}/transactions`, { amount: 5, description: 'gift' }));
    const specimen = ok(await s.api('POST', `/users/${user.user_id}/specimens`, {}));
    const event = ok(
      await s.api('POST', '/events', {
        event_type: 'plain',
        user_id: user.user_id,
        occurred_at: '2025-06-08T20:12:00+10:00',
        message: 'bye',
        document: { document_data: IMAGE, seal: 1 },
      }),
    );
    const before = ok(await s.api('GET', `/users/${user.user_id}`));
    expect(before.wallet).toBe(5);
    const deleted = ok(await s.api('DELETE', `/users/${user.user_id}`));
    expect(deleted).toEqual(before);
    expect((await s.api('GET', `/users/${user.user_id}`)).status).toBe(404);
    expect(ok(await s.api('GET', `/transactions?user_id=${user.user_id}`))).toEqual([]);
    expect((await s.api('GET', `/specimens/${specimen.specimen_id}`)).status).toBe(404);
    const kept = ok(await s.api('GET', `/events/${event.event_id}`));
    expect(kept).toMatchObject({ user_id: null, user: null, user_name: 'doomed', document_id: event.document_id });
    // IDs are not handed out again.
    const next = ok(await s.api('POST', '/users', { twitch_id: 'd-2', name: 'next' }));
    expect(next.user_id).toBeGreaterThan(user.user_id);
  });
});
