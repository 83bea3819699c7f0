import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import type { Command } from 'commander';
import { Kysely, SqliteDialect } from 'kysely';
import { createBlobStore } from '../core/blobs/create.js';
import { createFsBlobStore } from '../core/blobs/fs-store.js';
import type { BlobStore } from '../core/blobs/store.js';
import { isPostgresUrl, type Config } from '../core/config.js';
import { blobsInUse } from './blobs-in-use.js';
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
    console.log(`Backed up the database and ${report.blobs} blobs (${report.blobBytes} bytes) into ${resolve(dir)}.`);
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

export async function backup(config: Config, dir: string): Promise<{ blobs: number; blobBytes: number }> {
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
  // A self-contained file (no -wal beside it).
  const snapshot = new SqliteDatabase(snapshotPath);
  try {
    snapshot.pragma('journal_mode = DELETE');
  } finally {
    snapshot.close();
  }

  const secret = join(config.dataDir, 'jwt-secret');
  if (existsSync(secret)) {
    copyFileSync(secret, join(dir, 'jwt-secret'));
    chmodSync(join(dir, 'jwt-secret'), 0o600);
  }
  // Blobs never change once written and the collector keeps anything referenced, so what the snapshot names is there.
  const copied = await copyBlobsInUse(snapshotPath, await createBlobStore(config), createFsBlobStore(join(dir, 'blobs')));
  const manifest: Manifest = {
    format: 1,
    dreamlakeVersion: packageVersion(),
    createdAt: new Date().toISOString(),
    database: DATABASE_FILE,
    blobs: copied.blobs,
    blobBytes: copied.bytes,
  };
  writeFileSync(join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return { blobs: copied.blobs, blobBytes: copied.bytes };
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

  // The file contents first: a database that names a missing blob is worse than a blob nothing names yet. The
  // backup holds exactly the blobs its snapshot uses.
  const copied = await copyAll(createFsBlobStore(join(dir, 'blobs')), await createBlobStore(config));
  if (copied.blobs !== manifest.blobs) warnings.push(`the backup lists ${manifest.blobs} blobs but holds ${copied.blobs} (files without theirs will answer 404).`);

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

/** Copies from `from` every blob that the SQLite snapshot at `snapshotPath` uses (gc's own definition). */
async function copyBlobsInUse(snapshotPath: string, from: BlobStore, to: BlobStore) {
  const snapshot = new SqliteDatabase(snapshotPath, { readonly: true });
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: snapshot }) });
  let blobs = 0;
  let bytes = 0;
  try {
    // A database the server never started holds no tables yet, and so no references.
    if (!snapshot.prepare(`select 1 from sqlite_master where type = 'table' and name = 'nodes'`).get()) return { blobs, bytes };
    const inUse = blobsInUse(db);
    let batch: string[] = [];
    const flush = async () => {
      for (const sha256 of await inUse(batch)) {
        if (!(await to.exists(sha256))) bytes += (await to.put(await from.get(sha256), { expectedSha256: sha256 })).size;
        blobs++;
      }
      batch = [];
    };
    for await (const blob of from.list()) {
      batch.push(blob.sha256);
      if (batch.length >= 500) await flush();
    }
    if (batch.length) await flush();
  } finally {
    await db.destroy(); // closes the snapshot
  }
  return { blobs, bytes };
}

async function copyAll(from: BlobStore, to: BlobStore) {
  let blobs = 0;
  for await (const { sha256 } of from.list()) {
    if (!(await to.exists(sha256))) await to.put(await from.get(sha256), { expectedSha256: sha256 });
    blobs++;
  }
  return { blobs };
}
