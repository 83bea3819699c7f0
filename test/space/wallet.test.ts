import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SpaceKysely } from '../../src/space/db.js';
import { DIALECTS } from '../helpers/app.js';
import { KEY, ok, spaceApp, type SpaceTest } from './helpers.js';

// A wallet is the sum of a user's transaction amounts, answered as a JSON number: it stays within
// ±Number.MAX_SAFE_INTEGER, where it is exact on both databases (SQLite's sum() fails past 2^63, PostgreSQL's
// numeric sum would come back rounded past 2^53).
const MAX = Number.MAX_SAFE_INTEGER;

describe.each(DIALECTS)('dreamspace wallet limit (%s)', (dialect) => {
  let s: SpaceTest;
  let peer: FastifyInstance;
  let n = 0;
  beforeAll(async () => {
    s = await spaceApp(dialect);
    peer = await s.t.peer();
  });
  afterAll(async () => s.close());

  const newUser = async () => ok(await s.api('POST', '/users', { twitch_id: `w-${n++}`, name: 'saver' })).user_id as number;
  /** What is stored, read from the database itself: the user's amounts in ID order and their exact sum. */
  async function stored(userId: number) {
    const db = s.t.database.db as SpaceKysely;
    const rows = await db.selectFrom('space_transactions').select('amount').where('user_id', '=', userId).orderBy('transaction_id').execute();
    const { rows: sums } = await sql<{ total: string | null }>`select cast(sum(amount) as text) as total from space_transactions where user_id = ${userId}`.execute(db);
    return { amounts: rows.map((r) => Number(r.amount)), total: sums[0].total };
  }

  it('keeps the wallet within ±9007199254740991, exact: a transaction beyond is a 400 and nothing is stored', async () => {
    const user = await newUser();
    ok(await s.api('POST', '/transactions', { user_id: user, amount: MAX, description: 'jackpot' }));
    const over = await s.api('POST', '/transactions', { user_id: user, amount: 100, description: 'one too many' });
    expect(over.status).toBe(400);
    expect(over.text).toBe(
      `Amount 100 would take the wallet of user ${user} to 9007199254741091, beyond ±9007199254740991 (the wallet holds 9007199254740991).`,
    );
    // The same through the nested path.
    const nested = await s.api('POST', `/users/${user}/transactions`, { amount: 1, description: 'still too many' });
    expect(nested.status).toBe(400);
    expect(nested.text).toMatch(/^Amount 1 would take the wallet of user \d+ to 9007199254740992, beyond ±9007199254740991/);
    expect(await stored(user)).toEqual({ amounts: [MAX], total: '9007199254740991' });
    expect(ok(await s.api('GET', `/users/${user}`)).wallet).toBe(MAX);

    // Spending is fine, and the sums that follow are exact.
    expect(ok(await s.api('POST', '/transactions', { user_id: user, amount: -30, description: 'hat' })).amount).toBe(-30);
    expect(ok(await s.api('GET', `/users/${user}`)).wallet).toBe(9007199254740961);
    ok(await s.api('POST', `/users/${user}/transactions`, { amount: 30, description: 'refund' }));
    expect(ok(await s.api('GET', `/users?user_id=${user}`))[0].wallet).toBe(MAX);
    expect(ok(await s.api('GET', `/users/${user}/transactions`)).map((t: any) => t.amount)).toEqual([MAX, -30, 30]);
    expect(await stored(user)).toEqual({ amounts: [MAX, -30, 30], total: '9007199254740991' });
    // Deleting the user (and the transactions with them) still works.
    expect(ok(await s.api('DELETE', `/users/${user}`)).wallet).toBe(MAX);
    expect(await stored(user)).toEqual({ amounts: [], total: null });
  });

  it('holds on the negative side, and after many large transactions', async () => {
    const user = await newUser();
    ok(await s.api('POST', '/transactions', { user_id: user, amount: -MAX, description: 'debt' }));
    const under = await s.api('POST', '/transactions', { user_id: user, amount: -1, description: 'more debt' });
    expect(under.status).toBe(400);
    expect(under.text).toBe(
      `Amount -1 would take the wallet of user ${user} to -9007199254740992, beyond ±9007199254740991 (the wallet holds -9007199254740991).`,
    );
    expect(await stored(user)).toEqual({ amounts: [-MAX], total: '-9007199254740991' });
    expect(ok(await s.api('GET', `/users/${user}`)).wallet).toBe(-MAX);

    // Repeated transactions of the largest amount: the wallet never passes the limit, every read keeps working.
    const rich = await newUser();
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await s.api('POST', `/users/${rich}/transactions`, { amount: MAX, description: `big ${i}` })).status);
    expect(statuses).toEqual([200, 400, 400, 400, 400]);
    expect(ok(await s.api('GET', `/users/${rich}`)).wallet).toBe(MAX);
    expect(ok(await s.api('GET', '/users')).length).toBeGreaterThanOrEqual(2);
    expect(await stored(rich)).toEqual({ amounts: [MAX], total: '9007199254740991' });
  });

  it('is race-free: concurrent transactions of one user (two servers) never take the wallet beyond the limit together', async () => {
    const amount = Math.floor(MAX / 3); // three fit, a fourth does not
    for (let round = 0; round < 3; round++) {
      const user = await newUser();
      const viaPeer = async () => {
        const res = await peer.inject({
          method: 'POST',
          url: `/dreamspace/users/${user}/transactions`,
          headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
          payload: JSON.stringify({ amount, description: 'peer' }),
        });
        return { status: res.statusCode, text: res.body };
      };
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? viaPeer() : s.api('POST', '/transactions', { user_id: user, amount, description: 'app' }))),
      );
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses, answers.map((a) => a.text).join('\n')).toEqual([200, 200, 200, 400, 400, 400, 400, 400, 400, 400]);
      for (const a of answers.filter((x) => x.status === 400)) expect(a.text).toMatch(/beyond ±9007199254740991/);
      expect(ok(await s.api('GET', `/users/${user}`)).wallet).toBe(3 * amount);
      expect(await stored(user)).toEqual({ amounts: [amount, amount, amount], total: String(3 * amount) });
    }
  });
});
