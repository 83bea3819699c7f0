import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import type { Command } from 'commander';
import { createFsBlobStore } from '../core/blobs/fs-store.js';
import type { BlobStore } from '../core/blobs/store.js';
import { isPostgresUrl, type Config } from '../core/config.js';
import { configFrom, packageVersion, withCommonOptions } from './common.js';

const DATABASE_FILE = 'dreamlake.sqlite';
const MANIFEST = 'backup.json';

const POSTGRES_HOWTO =
  'This server uses PostgreSQL: back it up with pg_dump (e.g. pg_dump -Fc "$DREAMLAKE_DATABASE_URL" > dreamlake.dump) ' +
  'and copy <data_dir>/blobs and <data_dir>/jwt-secret; restore with pg_restore and by copying them back (see README, "Backup and restore").';

interface Manifest {
  format: 1;
  dreamlakeVersion: string;
  createdAt: string;
  database: string;
  blobs: number;
  blobBytes: number;
}

/** `dreamlake backup <dir>` and `dreamlake restore <dir>` (SQLite and filesystem blobs). */
export function registerBackup(program: Command) {
  withCommonOptions(
    program
      .command('backup <dir>')
      .description('copy the SQLite database (a consistent snapshot, while the server runs) and the file contents it references into <dir>'),
  ).action(async (dir: string, flags) => {
    const report = await backup(configFrom(flags), resolve(dir));
    console.log(
      `Backed up the database and ${report.blobs} blobs (${report.blobBytes} bytes) into ${resolve(dir)}` +
        (report.missing ? `; ${report.missing} referenced blobs were already missing from the store` : '') +
        '.',
    );
  });

  withCommonOptions(
    program
      .command('restore <dir>')
      .description('put a backup made by `dreamlake backup` back into the data directory (stop the server first)'),
  )
    .option('--force', 'replace an existing database (its current content is lost)')
    .action(async (dir: string, flags) => {
      const report = await restore(configFrom(flags), resolve(dir), Boolean(flags.force));
      console.log(`Restored the database to ${report.database} and ${report.blobs} blobs. Start the server again.`);
      for (const warning of report.warnings) console.error(`Warning: ${warning}`);
    });
}

export async function backup(config: Config, dir: string): Promise<{ blobs: number; blobBytes: number; missing: number }> {
  if (isPostgresUrl(config.databaseUrl)) throw new Error(POSTGRES_HOWTO);
  if (!existsSync(config.databaseUrl)) throw new Error(`No SQLite database at ${config.databaseUrl}: nothing to back up (wrong --data or --database?).`);
  mkdirSync(dir, { recursive: true });
  if (readdirSync(dir).length > 0) throw new Error(`${dir} is not empty: back up into a new or empty directory.`);

  // SQLite's online backup API: a consistent snapshot, even while the server writes (it restarts when the
  // source changes under it, and never blocks the server).
  const snapshotPath = join(dir, DATABASE_FILE);
  const source = new SqliteDatabase(config.databaseUrl, { fileMustExist: true });
  try {
    source.pragma('busy_timeout = 5000');
    // Whole steps: a backup that another process writes into restarts, so small steps might never finish.
    await source.backup(snapshotPath, { progress: ({ totalPages }) => Math.max(totalPages, 100) });
  } finally {
    source.close();
  }
  // A self-contained file (no -wal beside it), and the blobs that this snapshot references.
  const snapshot = new SqliteDatabase(snapshotPath);
  let shas: string[];
  try {
    snapshot.pragma('journal_mode = DELETE');
    shas = referencedIn(snapshot);
  } finally {
    snapshot.close();
  }

  const secret = join(config.dataDir, 'jwt-secret');
  if (existsSync(secret)) {
    copyFileSync(secret, join(dir, 'jwt-secret'));
    chmodSync(join(dir, 'jwt-secret'), 0o600);
  }
  // Blobs never change once written and the collector keeps anything referenced, so what the snapshot names is there.
  const copied = await copyBlobs(createFsBlobStore(join(config.dataDir, 'blobs')), createFsBlobStore(join(dir, 'blobs')), shas);
  const manifest: Manifest = {
    format: 1,
    dreamlakeVersion: packageVersion(),
    createdAt: new Date().toISOString(),
    database: DATABASE_FILE,
    blobs: copied.blobs,
    blobBytes: copied.bytes,
  };
  writeFileSync(join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return { blobs: copied.blobs, blobBytes: copied.bytes, missing: copied.missing };
}

export async function restore(
  config: Config,
  dir: string,
  force: boolean,
): Promise<{ database: string; blobs: number; warnings: string[] }> {
  if (isPostgresUrl(config.databaseUrl)) throw new Error(POSTGRES_HOWTO);
  if (!existsSync(join(dir, MANIFEST)) || !existsSync(join(dir, DATABASE_FILE))) {
    throw new Error(`${dir} is not a backup made by \`dreamlake backup\` (no ${MANIFEST} or ${DATABASE_FILE}).`);
  }
  const manifest = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as Manifest;
  if (manifest.format !== 1) throw new Error(`Unknown backup format ${String(manifest.format)}.`);
  const target = config.databaseUrl;
  if (existsSync(target) && !force) {
    throw new Error(`A database already exists at ${target}. Stop the server and move it away, or pass --force to replace it.`);
  }
  const warnings: string[] = [];

  // The file contents first: a database that names a missing blob is worse than a blob nothing names yet.
  const backupBlobs = createFsBlobStore(join(dir, 'blobs'));
  const snapshot = new SqliteDatabase(join(dir, DATABASE_FILE), { readonly: true });
  let shas: string[];
  try {
    shas = referencedIn(snapshot);
  } finally {
    snapshot.close();
  }
  const copied = await copyBlobs(backupBlobs, createFsBlobStore(join(config.dataDir, 'blobs')), shas);
  if (copied.missing) warnings.push(`${copied.missing} blobs the backup references were not in it (their files will answer 404).`);

  mkdirSync(dirname(target), { recursive: true });
  const staging = `${target}.restoring`;
  copyFileSync(join(dir, DATABASE_FILE), staging);
  for (const suffix of ['-wal', '-shm', '-journal']) rmSync(`${target}${suffix}`, { force: true });
  renameSync(staging, target);

  const secretInBackup = join(dir, 'jwt-secret');
  const secret = join(config.dataDir, 'jwt-secret');
  if (existsSync(secretInBackup)) {
    if (!existsSync(secret)) {
      copyFileSync(secretInBackup, secret);
      chmodSync(secret, 0o600);
    } else if (readFileSync(secret, 'utf8').trim() !== readFileSync(secretInBackup, 'utf8').trim()) {
      warnings.push(`kept the existing ${secret}; tokens signed with the backup's secret (${secretInBackup}) are not accepted.`);
    }
  }
  return { database: target, blobs: copied.blobs, warnings };
}

function referencedIn(db: SqliteDatabase.Database): string[] {
  const hasNodes = db.prepare(`select 1 from sqlite_master where type = 'table' and name = 'nodes'`).get();
  if (!hasNodes) return [];
  return db
    .prepare(`select distinct sha256 from nodes where sha256 is not null`)
    .pluck()
    .all() as string[];
}

async function copyBlobs(from: BlobStore, to: BlobStore, shas: string[]) {
  let blobs = 0;
  let bytes = 0;
  let missing = 0;
  for (const sha256 of shas) {
    if (!(await from.exists(sha256))) {
      missing++;
      continue;
    }
    if (!(await to.exists(sha256))) {
      const info = await to.put(await from.get(sha256), { expectedSha256: sha256 });
      bytes += info.size;
    }
    blobs++;
  }
  return { blobs, bytes, missing };
}
