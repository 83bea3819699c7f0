import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/app.js';
import { ok, spaceApp, TIMESTAMP, type SpaceTest } from './helpers.js';

describe.each(DIALECTS)('dreamspace transactions (%s)', (dialect) => {
  let s: SpaceTest;
  let user: any;
  beforeAll(async () => {
    s = await spaceApp(dialect);
    user = ok(await s.api('POST', '/users', { twitch_id: 't-1', name: 'payer' }));
  });
  afterAll(async () => s.close());

  it('creates a transaction with its user', async () => {
    const tx = ok(await s.api('POST', '/transactions', { user_id: user.user_id, amount: -250, description: 'bought a hat', reference: 'shop-7' }));
    expect(tx).toEqual({
      transaction_id: expect.any(Number),
      user_id: user.user_id,
      user: { user_id: user.user_id, twitch_id: 't-1', name: 'payer', preferences: null, created_at: user.created_at },
      amount: -250,
      description: 'bought a hat',
      reference: 'shop-7',
      created_at: expect.stringMatching(TIMESTAMP),
    });
    expect(ok(await s.api('GET', `/transactions/${tx.transaction_id}`))).toEqual(tx);
    expect(ok(await s.api('GET', `/transactions/${tx.transaction_id}/user`)).wallet).toBe(-250);
  });

  it('needs an existing user: no implicit creation', async () => {
    const before = await s.counts();
    const missing = await s.api('POST', '/transactions', { user_id: 9999, amount: 1, description: 'x' });
    expect(missing.status).toBe(400);
    expect(missing.text).toBe('User 9999 does not exist.');
    const noUser = await s.api('POST', '/transactions', { amount: 1, description: 'x' });
    expect(noUser.text).toBe('Missing required field: user_id.');
    const nested = await s.api('POST', '/transactions', { user: { twitch_id: 'new', name: 'n' }, amount: 1, description: 'x' });
    expect(nested.status).toBe(400);
    expect((await s.api('POST', '/transactions', { user_id: user.user_id, amount: 1 })).text).toBe('Missing required field: description.');
    expect((await s.api('POST', '/transactions', { user_id: user.user_id, amount: 1.5, description: 'x' })).text).toBe('Field amount must be an integer.');
    expect((await s.api('POST', '/users/9999/transactions', { amount: 1, description: 'x' })).status).toBe(404);
    expect(await s.counts()).toEqual(before);
  });

  it('is immutable: PATCH and DELETE answer 405 wherever the transaction is reached', async () => {
    const tx = ok(await s.api('POST', '/transactions', { user_id: user.user_id, amount: 1, description: 'fixed' }));
    for (const path of [`/transactions/${tx.transaction_id}`, `/users/${user.user_id}/transactions/${tx.transaction_id}`]) {
      for (const method of ['PATCH', 'DELETE']) {
        const res = await s.api(method, path, method === 'PATCH' ? { amount: 2 } : undefined);
        expect(res.status).toBe(405);
        expect(res.headers.allow).toBe('GET');
        expect(res.text).toMatch(/cannot be changed or deleted/);
      }
    }
    expect(ok(await s.api('GET', `/transactions/${tx.transaction_id}`)).amount).toBe(1);
  });

  it('lives under /users/{id}/transactions, where the path sets user_id', async () => {
    const other = ok(await s.api('POST', '/users', { twitch_id: 't-2', name: 'other' }));
    const tx = ok(await s.api('POST', `/users/${other.user_id}/transactions`, { amount: 40, description: 'nested', reference: 'r' }));
    expect(tx.user_id).toBe(other.user_id);
    const same = ok(await s.api('POST', `/users/${other.user_id}/transactions`, { user_id: other.user_id, amount: 2, description: 'nested' }));
    expect(same.user_id).toBe(other.user_id);
    const clash = await s.api('POST', `/users/${other.user_id}/transactions`, { user_id: user.user_id, amount: 2, description: 'x' });
    expect(clash.status).toBe(400);
    expect(clash.text).toBe(`Field user_id is ${user.user_id} but the path says ${other.user_id}.`);
    const listed = ok(await s.api('GET', `/users/${other.user_id}/transactions`));
    expect(listed.map((t: any) => t.transaction_id)).toEqual([tx.transaction_id, same.transaction_id]);
    // The path's user_id wins over one in the query string.
    expect(ok(await s.api('GET', `/users/${other.user_id}/transactions?user_id=${user.user_id}`))).toEqual(listed);
    expect(ok(await s.api('GET', `/users/${other.user_id}/transactions/${tx.transaction_id}`))).toEqual(tx);
    const foreign = await s.api('GET', `/users/${user.user_id}/transactions/${tx.transaction_id}`);
    expect(foreign.status).toBe(404);
    expect(foreign.text).toBe(`Transaction ${tx.transaction_id} not found for user ${user.user_id}.`);
    expect(ok(await s.api('GET', `/users/${other.user_id}/transactions?description=nested&reference=r`))).toEqual([tx]);
  });

  it('filters by transaction_id, user_id, description, reference and creation time', async () => {
    const u = ok(await s.api('POST', '/users', { twitch_id: 't-3', name: 'f' }));
    const a = ok(await s.api('POST', '/transactions', { user_id: u.user_id, amount: 1, description: 'alpha', reference: 'x' }));
    const b = ok(await s.api('POST', '/transactions', { user_id: u.user_id, amount: 2, description: 'beta' }));
    const ids = (l: any[]) => l.map((t) => t.transaction_id);
    expect(ids(ok(await s.api('GET', `/transactions?user_id=${u.user_id}`)))).toEqual([a.transaction_id, b.transaction_id]);
    expect(ids(ok(await s.api('GET', `/transactions?transaction_id=${b.transaction_id}`)))).toEqual([b.transaction_id]);
    expect(ids(ok(await s.api('GET', `/transactions?user_id=${u.user_id}&description=alpha`)))).toEqual([a.transaction_id]);
    expect(ids(ok(await s.api('GET', `/transactions?user_id=${u.user_id}&reference=x`)))).toEqual([a.transaction_id]);
    expect(ids(ok(await s.api('GET', `/transactions?user_id=${u.user_id}&created_after=2020-01-01&created_before=2999-12-31`)))).toEqual([
      a.transaction_id,
      b.transaction_id,
    ]);
    expect(ok(await s.api('GET', `/transactions?user_id=${u.user_id}&created_before=2020-01-01`))).toEqual([]);
    expect((await s.api('GET', '/transactions?amount=1')).status).toBe(400);
  });
});

describe.each(DIALECTS)('dreamspace specimens (%s)', (dialect) => {
  let s: SpaceTest;
  let owner: any;
  beforeAll(async () => {
    s = await spaceApp(dialect);
    owner = ok(await s.api('POST', '/users', { twitch_id: 'o-1', name: 'owner' }));
  });
  afterAll(async () => s.close());

  it('creates a specimen for owner_id, born now unless told otherwise', async () => {
    const sp = ok(await s.api('POST', '/specimens', { owner_id: owner.user_id }));
    expect(sp).toEqual({
      specimen_id: expect.any(Number),
      owner_id: owner.user_id,
      owner: { user_id: owner.user_id, twitch_id: 'o-1', name: 'owner', preferences: null, created_at: owner.created_at },
      born_at: expect.stringMatching(TIMESTAMP),
      forgotten_at: null,
    });
    expect(Math.abs(Date.parse(sp.born_at) - Date.now())).toBeLessThan(60_000);
    const dated = ok(await s.api('POST', '/specimens', { owner_id: owner.user_id, born_at: '2025-06-08T20:12:00+10:00', forgotten_at: '2025-06-09T08:00:00.5+10:00' }));
    expect(dated.born_at).toBe('2025-06-08T10:12:00+00:00');
    expect(dated.forgotten_at).toBe('2025-06-08T22:00:00.500000+00:00');
  });

  it('creates the owner from an owner object, upserted by twitch_id', async () => {
    const before = (await s.counts()).users;
    const fresh = ok(await s.api('POST', '/specimens', { owner: { twitch_id: 'o-new', name: 'newcomer' } }));
    expect(fresh.owner).toMatchObject({ twitch_id: 'o-new', name: 'newcomer' });
    expect((await s.counts()).users).toBe(before + 1);
    const known = ok(await s.api('POST', '/specimens', { owner: { twitch_id: 'o-1', name: 'owner renamed' } }));
    expect(known.owner_id).toBe(owner.user_id);
    expect(known.owner.name).toBe('owner renamed');
    expect((await s.counts()).users).toBe(before + 1);
  });

  it('refuses both owner_id and owner, or neither, or a missing owner, storing nothing', async () => {
    const before = await s.counts();
    const both = await s.api('POST', '/specimens', { owner_id: owner.user_id, owner: { twitch_id: 'o-x', name: 'x' } });
    expect(both.status).toBe(400);
    expect(both.text).toBe('Give owner_id or owner, not both.');
    const neither = await s.api('POST', '/specimens', {});
    expect(neither.text).toBe('Missing required field: owner_id (or an owner object).');
    expect((await s.api('POST', '/specimens', { owner_id: 4242 })).text).toBe('User 4242 does not exist.');
    expect((await s.api('POST', '/specimens', { owner_id: owner.user_id, born_at: 'soon' })).text).toMatch(/^Field born_at must be an ISO 8601 date-time/);
    // An invalid date after a valid owner object: the upserted owner is rolled back.
    const rolled = await s.api('POST', '/specimens', { owner: { twitch_id: 'o-rollback', name: 'r' }, forgotten_at: '2025-13-01' });
    expect(rolled.status).toBe(400);
    expect(ok(await s.api('GET', '/users?twitch_id=o-rollback'))).toEqual([]);
    expect(await s.counts()).toEqual(before);
  });

  it('PATCH changes only owner_id and forgotten_at', async () => {
    const other = ok(await s.api('POST', '/users', { twitch_id: 'o-2', name: 'heir' }));
    const sp = ok(await s.api('POST', '/specimens', { owner_id: owner.user_id, born_at: '2025-01-01' }));
    const moved = ok(await s.api('PATCH', `/specimens/${sp.specimen_id}`, { owner_id: other.user_id }));
    expect(moved.owner_id).toBe(other.user_id);
    expect(moved.owner.name).toBe('heir');
    const forgotten = ok(await s.api('PATCH', `/specimens/${sp.specimen_id}`, { forgotten_at: '2025-02-01T00:00:00Z' }));
    expect(forgotten.forgotten_at).toBe('2025-02-01T00:00:00+00:00');
    const remembered = ok(await s.api('PATCH', `/specimens/${sp.specimen_id}`, { forgotten_at: null }));
    expect(remembered.forgotten_at).toBeNull();
    for (const field of ['born_at', 'specimen_id', 'owner']) {
      const res = await s.api('PATCH', `/specimens/${sp.specimen_id}`, { [field]: field === 'owner' ? { twitch_id: 'z', name: 'z' } : 1 });
      expect(res.status).toBe(400);
      expect(res.text).toBe(`Field ${field} cannot be set here (allowed: owner_id, forgotten_at).`);
    }
    expect((await s.api('PATCH', `/specimens/${sp.specimen_id}`, { owner_id: 5555 })).text).toBe('User 5555 does not exist.');
    expect((await s.api('PATCH', `/specimens/${sp.specimen_id}`, { owner_id: null })).status).toBe(400);
    expect(ok(await s.api('GET', `/specimens/${sp.specimen_id}`))).toEqual(remembered);
  });

  it('filters by owner, birth and forgetting', async () => {
    const u = ok(await s.api('POST', '/users', { twitch_id: 'o-3', name: 'filters' }));
    const a = ok(await s.api('POST', `/users/${u.user_id}/specimens`, { born_at: '2024-01-01T00:00:00Z' }));
    const b = ok(await s.api('POST', `/users/${u.user_id}/specimens`, { born_at: '2024-06-01T00:00:00Z', forgotten_at: '2024-07-01T00:00:00Z' }));
    const c = ok(await s.api('POST', `/users/${u.user_id}/specimens`, { born_at: '2024-09-01T00:00:00Z', forgotten_at: '2024-12-01T00:00:00Z' }));
    const ids = async (q: string) => ok(await s.api('GET', `/specimens?owner_id=${u.user_id}${q}`)).map((x: any) => x.specimen_id);
    expect(await ids('')).toEqual([a.specimen_id, b.specimen_id, c.specimen_id]);
    expect(await ids('&forgotten=true')).toEqual([b.specimen_id, c.specimen_id]);
    expect(await ids('&forgotten=false')).toEqual([a.specimen_id]);
    expect(await ids('&forgotten=1')).toEqual([b.specimen_id, c.specimen_id]);
    expect(await ids('&born_after=2024-06-01')).toEqual([b.specimen_id, c.specimen_id]);
    expect(await ids('&born_before=2024-06-01')).toEqual([a.specimen_id]);
    expect(await ids('&forgotten_after=2024-08-01')).toEqual([c.specimen_id]);
    expect(await ids('&forgotten_before=2024-08-01')).toEqual([b.specimen_id]);
    expect(await ids(`&specimen_id=${b.specimen_id}`)).toEqual([b.specimen_id]);
    expect((await s.api('GET', '/specimens?forgotten=maybe')).text).toBe('Filter forgotten must be true or false (got "maybe").');
    // /users/{id}/specimens is the same list, with the owner from the path.
    expect(ok(await s.api('GET', `/users/${u.user_id}/specimens?forgotten=false`)).map((x: any) => x.specimen_id)).toEqual([a.specimen_id]);
    const current = ok(await s.api('GET', `/users/${u.user_id}/specimen`));
    expect(current.specimen_id).toBe(a.specimen_id);
    expect(ok(await s.api('GET', `/specimens/${c.specimen_id}/owner`)).user_id).toBe(u.user_id);
  });

  it('refuses an owner object under /users/{id}/specimens and deletes a specimen', async () => {
    const res = await s.api('POST', `/users/${owner.user_id}/specimens`, { owner: { twitch_id: 'o-1', name: 'owner' } });
    expect(res.status).toBe(400);
    expect(res.text).toBe('Field owner cannot be given here: the path names the owner.');
    const sp = ok(await s.api('POST', `/users/${owner.user_id}/specimens`, {}));
    expect(ok(await s.api('DELETE', `/specimens/${sp.specimen_id}`))).toEqual(sp);
    expect((await s.api('GET', `/specimens/${sp.specimen_id}`)).status).toBe(404);
    expect(ok(await s.api('GET', `/users/${owner.user_id}`)).user_id).toBe(owner.user_id);
  });
});
