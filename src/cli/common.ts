import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig, type Config, type ConfigFlags } from '../core/config.js';

/** Options every command takes. */
export function withCommonOptions(command: Command): Command {
  return command
    .option('--config <path>', 'INI config file (default ./dreamlake.ini if present)')
    .option('--data <dir>', 'data directory (default ./data)')
    .option('--database <url>', 'database URL: postgres://… or a SQLite file path');
}

export function configFrom(flags: ConfigFlags): Config {
  return loadConfig(flags);
}

/** Environment variables, listed by `dreamlake --help` and `dreamlake serve --help` (README: Configuration). */
export const ENVIRONMENT_HELP = `
Environment variables (flags > environment > INI file > defaults):
  DREAMLAKE_CONFIG                 INI config file (default ./dreamlake.ini if present)
  DREAMLAKE_HOST, DREAMLAKE_PORT   address and port to listen on (127.0.0.1, 8080)
  DREAMLAKE_DATA_DIR               SQLite file, JWT secret and file contents (./data)
  DREAMLAKE_DATABASE_URL           postgres://… or a SQLite file path (<data_dir>/dreamlake.sqlite)
  DREAMLAKE_DATABASE_POOL_SIZE     PostgreSQL connections per process (10)
  DREAMLAKE_SQLITE_SYNCHRONOUS     normal | full: full also survives a power loss, writes are slower (normal)
  DREAMLAKE_MOUNT_DREAMLAKE, DREAMLAKE_MOUNT_DREAMSCRIPT, DREAMLAKE_MOUNT_DREAMSPACE
                                   where each API is mounted, or off (/, /dreamscript, /dreamspace)
  DREAMLAKE_LOG_LEVEL              pino log level (info)
  DREAMLAKE_RESPONSE_CACHE_ENTRIES SQLite read cache size, 0 = off (10000)
  DREAMLAKE_SHUTDOWN_TIMEOUT       seconds SIGTERM waits for in-flight requests (10)
  DREAMLAKE_CORS_ORIGINS           browser origins allowed, comma-separated (none)
  DREAMLAKE_METRICS_TOKEN          GET /metrics needs this Bearer token (metrics off unless this or the port is set)
  DREAMLAKE_METRICS_PORT           serve GET /metrics on this port instead
  DREAMLAKE_JWT_SECRET             HS256 secret for DreamLake tokens (generated into <data_dir>/jwt-secret)
  DREAMLAKE_JWKS_URL, DREAMLAKE_JWT_ISSUER, DREAMLAKE_JWT_AUDIENCE
                                   verify tokens of an external identity provider instead
  DREAMLAKE_MAX_UPLOAD_BYTES       largest DreamLake file upload (5 GiB)
  DREAMSCRIPT_RATE_LIMIT           Dreamscript requests per second per API key, 0 = off (100)
  DREAMSPACE_APITOKEN              the Dreamspace API token (SecureToken, for testing only)
`;

/** The package version, read from package.json (two levels up from both src/cli and dist/cli). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
