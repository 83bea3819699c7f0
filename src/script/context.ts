import { loadOrCreateSecret } from '../core/auth/jwt.js';
import type { BlobStore } from '../core/blobs/store.js';
import type { AppContext } from '../core/context.js';
import { createCursorCodec, type CursorCodec } from '../core/pagination.js';
import { RateLimiter } from './access/rate-limit.js';
import { ChangeFeed } from './changes/feed.js';
import { CHANGES_CHANNEL, scriptDb, writeTransaction, type ScriptDb } from './db.js';
import { PlannerStats } from './planner-stats.js';

/** What the Dreamscript routes share, built once per app. */
export interface ScriptContext {
  db: ScriptDb;
  /** Where CouchDB attachments are kept (the server's blob store). */
  blobs: BlobStore;
  changes: ChangeFeed;
  /** Null when rate limiting is off (`rate_limit = 0`). */
  limiter: RateLimiter | null;
  /** Signs and checks the `x-next` cursors (an HMAC keyed by the server's secret). */
  cursors: CursorCodec;
  plannerStats: PlannerStats;
}

export function createScriptContext(ctx: AppContext): ScriptContext {
  const rate = ctx.config.script.rateLimit;
  const changes = new ChangeFeed(ctx.database.pgPool, CHANGES_CHANNEL);
  ctx.metrics?.observeWaiters(() => changes.waiting);
  return {
    db: scriptDb(ctx.database),
    blobs: ctx.blobs,
    changes,
    limiter: rate > 0 ? new RateLimiter(rate) : null,
    cursors: createCursorCodec(loadOrCreateSecret(ctx.config)),
    plannerStats: new PlannerStats(scriptDb(ctx.database)),
  };
}

/** A document write: one serialized transaction that also signals the changes feed once committed. */
export async function writeDocuments<T>(sc: ScriptContext, work: (trx: ScriptDb) => Promise<T>): Promise<T> {
  const result = await writeTransaction(sc.db, work, CHANGES_CHANNEL);
  sc.changes.notify();
  return result;
}
