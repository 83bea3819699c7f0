import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ini from 'ini';
import { durationSeconds } from './time.js';

/** Where each API family is mounted; `null` means switched off. */
export interface Mounts {
  lake: string | null;
  script: string | null;
  space: string | null;
  /** The web console (a static app); never at `/`. */
  console: string | null;
}

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  /** `postgres://…` selects PostgreSQL; anything else is a SQLite file path (or `:memory:`). */
  databaseUrl: string;
  /** PostgreSQL: connections per server process. */
  databasePoolSize: number;
  mounts: Mounts;
  auth: {
    jwtSecret?: string;
    jwksUrl?: string;
    jwtIssuer?: string;
    jwtAudience?: string;
    /** Accept JWTs without `exp` (some external identity providers omit it); off: such tokens are a 401. */
    allowTokensWithoutExp: boolean;
  };
  lake: {
    maxUploadBytes: number;
    bodyLimit: number;
    /** Multipart uploads: the part size advertised to clients (bytes). */
    partSize: number;
    /** Origin (and any path prefix of a proxy) that signed URLs start with; else the request's own host. */
    publicUrl?: string;
    /** Seconds a signed download URL stays valid. */
    downloadUrlTtl: number;
    /** Seconds a signed part-upload URL stays valid (never past its upload's expiry). */
    partUrlTtl: number;
    /** Seconds a staged multipart upload lives before the sweep discards it. */
    uploadExpiry: number;
  };
  /** corsOrigins: origins allowed to call the CouchDB endpoint from a browser (`*` for any); empty: none. */
  /**
   * couchBodyBudget: bytes of large CouchDB request bodies held in memory at once (core/body-budget.ts);
   * couchBodyIdle: seconds a large body may go without a byte before its connection is closed.
   */
  script: { rateLimit: number; corsOrigins: string[]; couchBodyBudget: number; couchBodyIdle: number };
  space: { apiToken: string };
  logLevel: string;
  /** How many hot read answers to keep (SQLite only); 0 turns the cache off. */
  responseCacheEntries: number;
  /** Seconds a SIGTERM/SIGINT waits for in-flight requests before cutting them (`[server] shutdown_timeout`). */
  shutdownTimeoutSeconds: number;
  /** Seconds a request body or a response may make no progress before its connection is closed (`[server] stall_timeout`). */
  stallSeconds: number;
  /** SQLite `PRAGMA synchronous`: `normal` survives a process crash, `full` also a power loss (slower writes). */
  sqliteSynchronous: 'normal' | 'full';
  /** Origins allowed to call the APIs from a browser (CORS); empty: none. */
  corsOrigins: string[];
  /** `GET /metrics` needs `Authorization: Bearer <metricsToken>` when set. */
  metricsToken?: string;
  /** Serve `GET /metrics` on this port (same host) instead of the API port. */
  metricsPort?: number;
  /** Which setting each value came from (for error messages): e.g. `DREAMLAKE_DATABASE_URL`, `--database`. */
  sources: { databaseUrl: string; jwtSecret: string; port: string; dataDir: string };
  /** Where file contents go: the filesystem under <data_dir>/blobs, or an S3 bucket. */
  storage: StorageConfig;
}

export interface StorageConfig {
  backend: 'fs' | 's3';
  s3: {
    endpoint?: string;
    region: string;
    bucket?: string;
    prefix: string;
    forcePathStyle: boolean;
    accessKeyId?: string;
    secretAccessKey?: string;
  };
}

/** Flag values as commander hands them over (all optional). */
export interface ConfigFlags {
  config?: string;
  data?: string;
  host?: string;
  port?: string | number;
  database?: string;
  logLevel?: string;
}

export const DEFAULT_SPACE_TOKEN = 'SecureToken';

type IniFile = Record<string, Record<string, string | undefined> | undefined>;

function readIni(path: string | undefined, explicit: boolean): IniFile {
  if (!path) return {};
  if (!existsSync(path)) {
    if (explicit) throw new Error(`Config file not found: ${path}`);
    return {};
  }
  return ini.parse(readFileSync(path, 'utf8')) as IniFile;
}

function firstDefined<T>(...values: (T | undefined | null | '')[]): T | undefined {
  for (const v of values) if (v !== undefined && v !== null && v !== '') return v as T;
  return undefined;
}

function parseMount(value: string | undefined, fallback: string): string | null {
  const raw = (value ?? fallback).trim();
  if (raw === 'off' || raw === 'false' || raw === 'none') return null;
  if (!raw.startsWith('/')) throw new Error(`A mount must start with "/" or be "off" (got "${raw}")`);
  return raw === '/' ? '/' : raw.replace(/\/+$/, '');
}

function parseConsoleMount(value: string | undefined): string | null {
  const mount = parseMount(value, '/console');
  if (mount === '/') throw new Error('mount_console cannot be "/" (the console lives under its own path, e.g. /console)');
  return mount;
}

function parseInteger(name: string, value: string | number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer (got "${value}")`);
  return n;
}

function parseBoolean(name: string, value: string | boolean | undefined): boolean {
  if (value === undefined || typeof value === 'boolean') return value ?? false;
  const text = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(text)) return true;
  if (['false', '0', 'no', 'off'].includes(text)) return false;
  throw new Error(`${name} must be true or false (got "${value}")`);
}

function parseSynchronous(value: string | undefined): 'normal' | 'full' {
  const v = (value ?? 'normal').trim().toLowerCase();
  if (v !== 'normal' && v !== 'full') throw new Error(`sqlite_synchronous must be normal or full (got "${value}")`);
  return v;
}

/** The name of the first setting that has a value, in precedence order; `fallback` when none has. */
function sourceOf(candidates: [string, unknown][], fallback: string): string {
  for (const [name, v] of candidates) if (v !== undefined && v !== null && v !== '') return name;
  return fallback;
}

function parsePoolSize(value: string | undefined): number {
  const n = parseInteger('pool_size', value, 10);
  if (n < 1) throw new Error(`pool_size must be at least 1 (got "${value}")`);
  return n;
}

/**
 * `3600`, `90s`, `15m`, `1h`, `7d` → seconds: a whole number, at least 1 (link and upload lifetimes). `shutdown`
 * takes any number of seconds from 0, fractions included (`2.5`).
 */
function parseDuration(name: string, value: string | undefined, fallback: number, kind: 'lifetime' | 'shutdown' = 'lifetime'): number {
  if (value === undefined) return fallback;
  const seconds = durationSeconds(String(value));
  const fits = seconds !== undefined && (kind === 'shutdown' || (Number.isInteger(seconds) && seconds >= 1));
  if (!fits) {
    const examples = kind === 'shutdown' ? '0, 2.5, 10, 30s or 1m' : 'a whole number of seconds such as 3600, 90s, 15m, 1h or 7d';
    throw new Error(`${name} must be a duration such as ${examples} (got "${value}")`);
  }
  return seconds;
}

function parsePublicUrl(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new Error(`public_url must be an absolute http(s) URL (got "${value}")`);
  }
  if (!/^https?:$/.test(url.protocol) || url.search || url.hash) throw new Error(`public_url must be an http(s) URL without query (got "${value}")`);
  return url.href.replace(/\/+$/, '');
}

/**
 * Builds the one typed Config: command-line flags > environment variables > INI file > defaults.
 * Nothing reads the environment at import time; callers pass `env` in (tests pass their own).
 */
export function loadConfig(flags: ConfigFlags = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const explicitPath = firstDefined(flags.config, env.DREAMLAKE_CONFIG);
  const file = readIni(explicitPath ?? resolve('dreamlake.ini'), explicitPath !== undefined);
  const server = file.server ?? {};
  const database = file.database ?? {};
  const auth = file.auth ?? {};
  const api = file.API ?? file.api ?? {};
  const script = file.dreamscript ?? {};
  const lake = file.dreamlake ?? {};

  const dataDir = resolve(firstDefined(flags.data, env.DREAMLAKE_DATA_DIR, server.data_dir) ?? './data');
  const port = parseInteger('port', firstDefined<string | number>(flags.port, env.DREAMLAKE_PORT, server.port), 8080);
  if (port > 65535) throw new Error(`port must be at most 65535 (got ${port})`);
  const fileName = explicitPath ?? 'dreamlake.ini';
  const metricsPortRaw = firstDefined<string>(env.DREAMLAKE_METRICS_PORT, server.metrics_port);
  const metricsPort = metricsPortRaw === undefined ? undefined : parseInteger('metrics_port', metricsPortRaw, 0);
  if (metricsPort !== undefined && metricsPort > 65535) throw new Error(`metrics_port must be at most 65535 (got ${metricsPort})`);

  return {
    host: firstDefined(flags.host, env.DREAMLAKE_HOST, server.host) ?? '127.0.0.1',
    port,
    dataDir,
    databaseUrl:
      firstDefined(flags.database, env.DREAMLAKE_DATABASE_URL, database.url) ?? join(dataDir, 'dreamlake.sqlite'),
    databasePoolSize: parsePoolSize(firstDefined(env.DREAMLAKE_DATABASE_POOL_SIZE, database.pool_size)),
    mounts: {
      lake: parseMount(firstDefined(env.DREAMLAKE_MOUNT_DREAMLAKE, server.mount_dreamlake), '/'),
      script: parseMount(firstDefined(env.DREAMLAKE_MOUNT_DREAMSCRIPT, server.mount_dreamscript), '/dreamscript'),
      space: parseMount(firstDefined(env.DREAMLAKE_MOUNT_DREAMSPACE, server.mount_dreamspace), '/dreamspace'),
      console: parseConsoleMount(firstDefined(env.DREAMLAKE_MOUNT_CONSOLE, server.mount_console)),
    },
    auth: {
      jwtSecret: firstDefined(env.DREAMLAKE_JWT_SECRET, auth.jwt_secret),
      jwksUrl: firstDefined(env.DREAMLAKE_JWKS_URL, auth.jwks_url),
      jwtIssuer: firstDefined(env.DREAMLAKE_JWT_ISSUER, auth.jwt_issuer),
      jwtAudience: firstDefined(env.DREAMLAKE_JWT_AUDIENCE, auth.jwt_audience),
      allowTokensWithoutExp: parseBoolean(
        'allow_tokens_without_exp',
        firstDefined<string | boolean>(env.DREAMLAKE_ALLOW_TOKENS_WITHOUT_EXP, auth.allow_tokens_without_exp),
      ),
    },
    lake: {
      maxUploadBytes: parseInteger(
        'max_upload_bytes',
        firstDefined(env.DREAMLAKE_MAX_UPLOAD_BYTES, lake.max_upload_bytes),
        5 * 1024 ** 3,
      ),
      bodyLimit: 1024 * 1024,
      partSize: parseInteger('part_size', firstDefined(env.DREAMLAKE_PART_SIZE, lake.part_size), 10 * 1024 ** 2),
      publicUrl: parsePublicUrl(firstDefined(env.DREAMLAKE_PUBLIC_URL, lake.public_url)),
      downloadUrlTtl: parseDuration('download_url_ttl', firstDefined(env.DREAMLAKE_DOWNLOAD_URL_TTL, lake.download_url_ttl), 3600),
      partUrlTtl: parseDuration('part_url_ttl', firstDefined(env.DREAMLAKE_PART_URL_TTL, lake.part_url_ttl), 86_400),
      uploadExpiry: parseDuration('upload_expiry', firstDefined(env.DREAMLAKE_UPLOAD_EXPIRY, lake.upload_expiry), 7 * 86_400),
    },
    script: {
      rateLimit: parseInteger('rate_limit', firstDefined(env.DREAMSCRIPT_RATE_LIMIT, script.rate_limit), 100),
      corsOrigins: (firstDefined(env.DREAMSCRIPT_CORS_ORIGINS, script.cors_origins) ?? '')
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
      couchBodyBudget: parseInteger(
        'couch_body_budget_bytes',
        firstDefined(env.DREAMSCRIPT_COUCH_BODY_BUDGET_BYTES, script.couch_body_budget_bytes),
        512 * 1024 * 1024,
      ),
      couchBodyIdle: parseDuration('couch_body_idle_timeout', firstDefined(env.DREAMSCRIPT_COUCH_BODY_IDLE_TIMEOUT, script.couch_body_idle_timeout), 60),
    },
    space: { apiToken: firstDefined(env.DREAMSPACE_APITOKEN, api.APITOKEN, api.apitoken) ?? DEFAULT_SPACE_TOKEN },
    logLevel: firstDefined(flags.logLevel, env.DREAMLAKE_LOG_LEVEL, server.log_level) ?? 'info',
    responseCacheEntries: parseInteger(
      'response_cache_entries',
      firstDefined(env.DREAMLAKE_RESPONSE_CACHE_ENTRIES, server.response_cache_entries),
      10_000,
    ),
    shutdownTimeoutSeconds: parseDuration(
      'shutdown_timeout',
      firstDefined(env.DREAMLAKE_SHUTDOWN_TIMEOUT, server.shutdown_timeout),
      10,
      'shutdown',
    ),
    stallSeconds: parseDuration('stall_timeout', firstDefined(env.DREAMLAKE_STALL_TIMEOUT, server.stall_timeout), 60),
    sqliteSynchronous: parseSynchronous(firstDefined(env.DREAMLAKE_SQLITE_SYNCHRONOUS, database.sqlite_synchronous)),
    corsOrigins: (firstDefined<string>(env.DREAMLAKE_CORS_ORIGINS, server.cors_origins) ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter((o) => o !== ''),
    metricsToken: firstDefined(env.DREAMLAKE_METRICS_TOKEN, server.metrics_token),
    metricsPort,
    sources: {
      databaseUrl: sourceOf(
        [['--database', flags.database], ['DREAMLAKE_DATABASE_URL', env.DREAMLAKE_DATABASE_URL], [`[database] url in ${fileName}`, database.url]],
        'the default (<data_dir>/dreamlake.sqlite)',
      ),
      jwtSecret: sourceOf(
        [['DREAMLAKE_JWT_SECRET', env.DREAMLAKE_JWT_SECRET], [`[auth] jwt_secret in ${fileName}`, auth.jwt_secret]],
        `${join(dataDir, 'jwt-secret')}`,
      ),
      port: sourceOf([['--port', flags.port], ['DREAMLAKE_PORT', env.DREAMLAKE_PORT], [`[server] port in ${fileName}`, server.port]], 'the default'),
      dataDir: sourceOf(
        [['--data', flags.data], ['DREAMLAKE_DATA_DIR', env.DREAMLAKE_DATA_DIR], [`[server] data_dir in ${fileName}`, server.data_dir]],
        'the default (./data)',
      ),
    },
    storage: parseStorage(file.storage ?? {}, env),
  };
}

/** `[storage]`: backend fs | s3 and the S3 settings; the S3 credentials come from the environment only. */
function parseStorage(storage: Record<string, string | undefined>, env: NodeJS.ProcessEnv): StorageConfig {
  const backend = String(firstDefined(env.DREAMLAKE_STORAGE_BACKEND, storage.backend) ?? 'fs').trim().toLowerCase();
  if (backend !== 'fs' && backend !== 's3') throw new Error(`[storage] backend must be "fs" or "s3" (got "${backend}")`);
  // ini turns a bare true/false into a boolean
  const pathStyle = String(firstDefined<unknown>(env.DREAMLAKE_S3_FORCE_PATH_STYLE, storage.s3_force_path_style) ?? 'true').trim().toLowerCase();
  if (!['true', 'false', '1', '0', 'yes', 'no'].includes(pathStyle)) {
    throw new Error(`s3_force_path_style must be true or false (got "${pathStyle}")`);
  }
  let prefix = firstDefined(env.DREAMLAKE_S3_PREFIX, storage.s3_prefix) ?? '';
  prefix = prefix.replace(/^\/+/, '');
  if (prefix && !prefix.endsWith('/')) prefix += '/';
  const s3: StorageConfig['s3'] = {
    endpoint: firstDefined(env.DREAMLAKE_S3_ENDPOINT, storage.s3_endpoint),
    region: firstDefined(env.DREAMLAKE_S3_REGION, storage.s3_region) ?? 'us-east-1',
    bucket: firstDefined(env.DREAMLAKE_S3_BUCKET, storage.s3_bucket),
    prefix,
    forcePathStyle: ['true', '1', 'yes'].includes(pathStyle),
    accessKeyId: firstDefined(env.DREAMLAKE_S3_ACCESS_KEY_ID, env.AWS_ACCESS_KEY_ID),
    secretAccessKey: firstDefined(env.DREAMLAKE_S3_SECRET_ACCESS_KEY, env.AWS_SECRET_ACCESS_KEY),
  };
  if (backend === 's3' && !s3.bucket) throw new Error('[storage] backend = s3 needs s3_bucket (or DREAMLAKE_S3_BUCKET)');
  return { backend, s3 };
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}
