import type { Config } from './config.js';
import type { Database } from './db/database.js';
import type { VerifyToken } from './auth/jwt.js';

/** What every family is handed when it is registered: built once per app, never a global. */
export interface AppContext {
  config: Config;
  database: Database;
  verifyToken: VerifyToken;
}
