import { accessSync, constants, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isPostgresUrl, type Config } from './config.js';

/** A start-up failure whose message says what to do; the CLI prints the message alone and exits 1. */
export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StartupError';
  }
}

const codeOf = (err: unknown): string | undefined => (err as { code?: string } | null)?.code;
const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** The data directory must exist (it is created) and be writable: the JWT secret, SQLite and blobs live there. */
export function checkDataDir(config: Config): void {
  const dir = config.dataDir;
  const fix = `Choose another with --data or DREAMLAKE_DATA_DIR ([server] data_dir), or make it writable for this user (it was set by ${config.sources.dataDir}).`;
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    const probe = join(dir, `.write-test-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (err) {
    throw new StartupError(`The data directory ${dir} is not writable (${codeOf(err) ?? messageOf(err)}). ${fix}`, { cause: err });
  }
}

/** `postgres://user:secret@host/db` → `postgres://user@host/db`: never print a password. */
export function withoutPassword(url: string): string {
  if (!isPostgresUrl(url)) return url;
  try {
    const parsed = new URL(url);
    parsed.password = '';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1@');
  }
}

const PG_HINTS: Record<string, string> = {
  ECONNREFUSED: 'nothing accepts connections there: is PostgreSQL running, on that host and port?',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name does not resolve (DNS)',
  ETIMEDOUT: 'the connection timed out: a firewall, or the wrong host?',
  EHOSTUNREACH: 'the host is unreachable',
  '28P01': 'the password was refused',
  '28000': 'the server refused this user (pg_hba.conf?)',
  '3D000': 'that database does not exist: create it first (createdb)',
  '42501': 'this user lacks a permission the migrations need',
};

/** Turns a failure to open or migrate the database into a message naming the (password-less) URL and its setting. */
export function describeDatabaseError(err: unknown, config: Config): unknown {
  if (err instanceof StartupError) return err;
  const code = codeOf(err);
  const url = withoutPassword(config.databaseUrl);
  const from = `(set by ${config.sources.databaseUrl})`;
  if (isPostgresUrl(config.databaseUrl)) {
    const aggregate = (err as { errors?: unknown[] } | null)?.errors;
    const first = code ?? (Array.isArray(aggregate) ? codeOf(aggregate[0]) : undefined);
    const hint = first ? PG_HINTS[first] : undefined;
    const looksLikeConnection = hint !== undefined || /connect|getaddrinfo|timeout|terminated/i.test(messageOf(err));
    if (!looksLikeConnection) return err;
    return new StartupError(
      `Cannot use the PostgreSQL database ${url} ${from}: ${hint ?? messageOf(err)} (${first ?? messageOf(err)}). ` +
        'Fix the URL with --database, DREAMLAKE_DATABASE_URL or [database] url.',
      { cause: err },
    );
  }
  if (typeof code === 'string' && (code.startsWith('SQLITE_CANTOPEN') || ['SQLITE_READONLY', 'EACCES', 'EPERM', 'ENOTDIR', 'EROFS'].includes(code))) {
    return new StartupError(
      `Cannot open the SQLite database ${url} ${from}: ${messageOf(err)}. ` +
        'Point --database / DREAMLAKE_DATABASE_URL at a writable path, or fix the permissions of that file and its directory.',
      { cause: err },
    );
  }
  return err;
}

/** Port in use or not allowed: say which setting chooses it. */
export function describeListenError(err: unknown, config: Config, which: 'api' | 'metrics'): unknown {
  if (err instanceof StartupError) return err;
  const code = codeOf(err);
  const port = which === 'api' ? config.port : config.metricsPort;
  const how =
    which === 'api'
      ? `Choose another port with --port or DREAMLAKE_PORT ([server] port; this one came from ${config.sources.port}), or stop what uses it.`
      : 'Choose another with DREAMLAKE_METRICS_PORT ([server] metrics_port), or stop what uses it.';
  const what = which === 'api' ? 'Port' : 'Metrics port';
  if (code === 'EADDRINUSE') return new StartupError(`${what} ${port} on ${config.host} is already in use. ${how}`, { cause: err });
  if (code === 'EACCES') {
    return new StartupError(`${what} ${port} on ${config.host} is not allowed for this user (ports below 1024 need privileges). ${how}`, {
      cause: err,
    });
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
    return new StartupError(
      `Cannot listen on ${config.host}: no such local address. Choose another with --host or DREAMLAKE_HOST ([server] host).`,
      { cause: err },
    );
  }
  return err;
}
