import type pg from 'pg';
import { createChannelListener, type ChannelListener } from '../../core/db/notify.js';

/**
 * Wakes waiting longpoll requests when documents change: at once for writes of this process, and through
 * LISTEN/NOTIFY for writes of other processes sharing the PostgreSQL database. Nothing here holds a
 * pooled connection while waiting; the LISTEN connection is opened on first use.
 */
export class ChangeFeed {
  private readonly waiters = new Set<Waiter>();
  private readonly listener: ChannelListener | null;
  private closed = false;

  constructor(pool: pg.Pool | null, channel: string) {
    this.listener = pool ? createChannelListener(pool, channel) : null;
    this.listener?.on(() => this.notify());
  }

  /** How many longpoll requests are waiting right now (for the metrics). */
  get waiting(): number {
    return this.waiters.size;
  }

  notify(): void {
    for (const waiter of this.waiters) waiter.signal();
  }

  /**
   * Starts watching before the caller reads, so that a change committed between its read and its wait
   * is not lost; resolves once LISTEN is in place.
   */
  async watch(): Promise<Waiter> {
    const waiter = new Waiter(() => this.waiters.delete(waiter));
    this.waiters.add(waiter);
    if (this.closed) waiter.stop();
    try {
      await this.listener?.ready();
    } catch (err) {
      waiter.dispose();
      throw err;
    }
    return waiter;
  }

  /** Ends every wait (the server is shutting down); the LISTEN connection closes with `close`. */
  stopWaiters(): void {
    this.closed = true;
    for (const waiter of this.waiters) waiter.stop();
  }

  async close(): Promise<void> {
    this.stopWaiters();
    await this.listener?.close();
  }
}

export class Waiter {
  private pending = false;
  private stopped = false;
  private wake: (() => void) | null = null;

  constructor(private readonly release: () => void) {}

  signal(): void {
    this.pending = true;
    this.wake?.();
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  /** True when a change was signalled since the last call, false on timeout, abort or shutdown. */
  next(ms: number, abort: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        abort.removeEventListener('abort', finish);
        this.wake = null;
        const woke = this.pending && !this.stopped && !abort.aborted;
        this.pending = false;
        resolve(woke);
      };
      const timer = setTimeout(finish, Math.max(0, ms));
      abort.addEventListener('abort', finish);
      this.wake = finish;
      if (this.pending || this.stopped || abort.aborted) finish();
    });
  }

  dispose(): void {
    this.release();
  }
}
