import type { Config } from './config.js';
import type { Database } from './db/database.js';
import type { VerifyToken } from './auth/jwt.js';
import type { BlobStore } from './blobs/store.js';
import type { Metrics } from './metrics.js';
import type { ResponseCache } from './response-cache.js';

/** What every family is handed when it is registered: built once per app, never a global. */
export interface AppContext {
  config: Config;
  database: Database;
  verifyToken: VerifyToken;
  /** File contents (DreamLake nodes): the filesystem under <data_dir>/blobs unless the app was given another. */
  blobs: BlobStore;
  /** Hot read answers, valid while the data is unchanged (SQLite only; see response-cache.ts). */
  responses: ResponseCache;
  /** Prometheus metrics, when on (see core/metrics.ts). */
  metrics?: Metrics;
}
