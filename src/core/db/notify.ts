import pg from 'pg';

/** Wakes in-process callbacks when PostgreSQL delivers a NOTIFY on one channel for this schema. */
export interface ChannelListener {
  /** Resolves once LISTEN is in place (connecting, or reconnecting, on first use). */
  ready(): Promise<void>;
  on(callback: () => void): () => void;
  close(): Promise<void>;
}

/** How soon a lost LISTEN connection is re-established, and the longest wait between attempts. */
const RECONNECT_FIRST_MS = 100;
const RECONNECT_MAX_MS = 5_000;

/**
 * One dedicated connection per process holds the LISTEN, outside the pool, so that waiting requests
 * never pin a pooled connection. Payloads other than this connection's schema are ignored (see
 * serializeWrites). A lost connection (a database restart, a failover, an idle timeout) wakes every
 * callback, since notifications may have been missed, and is re-established at once in the background,
 * then every callback is woken again: feeds that were already waiting keep hearing other processes.
 */
export function createChannelListener(pool: pg.Pool, channel: string): ChannelListener {
  const callbacks = new Set<() => void>();
  let connecting: Promise<void> | null = null;
  let client: pg.Client | null = null;
  let closed = false;
  let retry: NodeJS.Timeout | null = null;
  const wakeAll = () => {
    for (const callback of callbacks) callback();
  };

  function ready(): Promise<void> {
    if (closed) return Promise.resolve();
    connecting ??= connect().catch((err) => {
      connecting = null;
      throw err;
    });
    return connecting;
  }

  function reconnectSoon(delayMs: number): void {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = null;
      ready().then(wakeAll, () => reconnectSoon(Math.min(delayMs * 2, RECONNECT_MAX_MS)));
    }, delayMs);
    retry.unref();
  }

  async function connect(): Promise<void> {
    const next = new pg.Client(pool.options);
    const lost = () => {
      if (client !== next) return;
      client = null;
      connecting = null;
      next.end().catch(() => {});
      wakeAll();
      reconnectSoon(RECONNECT_FIRST_MS);
    };
    next.on('error', lost);
    next.on('end', lost);
    await next.connect();
    const { rows } = await next.query<{ schema: string }>('select current_schema() as schema');
    const schema = rows[0].schema;
    next.on('notification', (message) => {
      if (message.channel === channel && message.payload === schema) wakeAll();
    });
    await next.query(`listen ${pg.escapeIdentifier(channel)}`);
    if (closed) {
      await next.end();
      return;
    }
    client = next;
  }

  return {
    ready,
    on(callback) {
      callbacks.add(callback);
      return () => callbacks.delete(callback);
    },
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      callbacks.clear();
      await connecting?.catch(() => {});
      const current = client;
      client = null;
      await current?.end().catch(() => {});
    },
  };
}
