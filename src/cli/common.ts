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
  DREAMLAKE_MOUNT_CONSOLE          where the web console is served, or off (/console)
  DREAMLAKE_LOG_LEVEL              pino log level (info)
  DREAMLAKE_STALL_TIMEOUT          seconds a request body or a download may go without a byte (60)
  DREAMLAKE_RESPONSE_CACHE_ENTRIES SQLite read cache size, 0 = off (10000)
  DREAMLAKE_SHUTDOWN_TIMEOUT       seconds SIGTERM waits for in-flight requests (10)
  DREAMLAKE_CORS_ORIGINS           browser origins allowed, comma-separated (none)
  DREAMSCRIPT_CORS_ORIGINS         origins whose pages may call the CouchDB endpoint, comma-separated or * (none)
  DREAMLAKE_METRICS_TOKEN          GET /metrics needs this Bearer token (metrics off unless this or the port is set)
  DREAMLAKE_METRICS_PORT           serve GET /metrics on this port instead
  DREAMLAKE_JWT_SECRET             HS256 secret for DreamLake tokens (generated into <data_dir>/jwt-secret)
  DREAMLAKE_JWKS_URL, DREAMLAKE_JWT_ISSUER, DREAMLAKE_JWT_AUDIENCE
                                   verify tokens of an external identity provider instead
  DREAMLAKE_ALLOW_TOKENS_WITHOUT_EXP  accept JWTs without an exp claim (false)
  DREAMLAKE_MAX_UPLOAD_BYTES       largest DreamLake file upload (5 GiB)
  DREAMLAKE_PART_SIZE              part size suggested to multipart clients (10 MiB)
  DREAMLAKE_UPLOAD_EXPIRY          a staged multipart upload not completed by then is discarded (7d)
  DREAMLAKE_PUBLIC_URL             where clients reach this server; signed URLs start with it (the request's host)
  DREAMLAKE_DOWNLOAD_URL_TTL, DREAMLAKE_PART_URL_TTL
                                   how long signed download and part-upload links work (1h, 24h)
  DREAMLAKE_STORAGE_BACKEND        fs (<data_dir>/blobs) or s3 (fs)
  DREAMLAKE_S3_ENDPOINT, DREAMLAKE_S3_REGION, DREAMLAKE_S3_BUCKET, DREAMLAKE_S3_PREFIX,
  DREAMLAKE_S3_ACCESS_KEY_ID, DREAMLAKE_S3_SECRET_ACCESS_KEY, DREAMLAKE_S3_FORCE_PATH_STYLE
                                   the S3 bucket for file contents (README: Storing files in S3)
  DREAMSCRIPT_RATE_LIMIT           Dreamscript requests per second per API key, 0 = off (100)
  DREAMSCRIPT_COUCH_BODY_BUDGET_BYTES, DREAMSCRIPT_COUCH_BODY_IDLE_TIMEOUT
                                   memory for large CouchDB bodies at once (512 MiB), their stall timeout (60 s)
  DREAMSPACE_APITOKEN              the Dreamspace API token (SecureToken, for testing only)
  DREAMLAKE_TOKEN                  the token dreamlake login keeps when --token is not given
`;

/** The package version, read from package.json (two levels up from both src/cli and dist/cli). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
