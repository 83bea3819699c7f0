import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createChannelListener } from '../src/core/db/notify.js';
import { adminQuery, PG_URL } from './helpers/pg.js';

// The LISTEN connection that wakes longpolls and live feeds for other processes' writes (PostgreSQL only; the
// run says so when PostgreSQL is not configured: see the global setup).
describe.skipIf(!PG_URL)('the LISTEN connection (PostgreSQL)', () => {
  const listenersOf = async (channel: string) =>
    (await adminQuery(`select pid from pg_stat_activity where query = $1`, [`listen "${channel}"`])).rows.map((r: { pid: number }) => r.pid);
  const until = async (what: () => Promise<boolean>, ms: number) => {
    for (const start = Date.now(); Date.now() - start < ms; await new Promise((r) => setTimeout(r, 50))) if (await what()) return true;
    return false;
  };

  it('comes back by itself after it is cut (a database restart, a failover), and its waiters hear other processes again', async () => {
    const channel = `test_listen_${randomBytes(4).toString('hex')}`;
    const pool = new pg.Pool({ connectionString: PG_URL, max: 1 });
    const listener = createChannelListener(pool, channel);
    let woken = 0;
    listener.on(() => woken++);
    try {
      await listener.ready();
      const [first] = await listenersOf(channel);
      expect(first).toBeGreaterThan(0);
      await adminQuery('select pg_terminate_backend($1)', [first]);
      // Nothing asks for ready() again: the listener must reconnect on its own.
      expect(await until(async () => (await listenersOf(channel)).some((pid) => pid !== first), 5_000)).toBe(true);
      const before = woken;
      await adminQuery(`select pg_notify($1, current_schema())`, [channel]);
      expect(await until(async () => woken > before, 3_000)).toBe(true);
    } finally {
      await listener.close();
      await pool.end();
    }
  });
});
