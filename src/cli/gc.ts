import type { Command } from 'commander';
import { createBlobStore } from '../core/blobs/create.js';
import { durationSeconds } from '../core/time.js';
import { collectGarbage } from '../core/blobs/gc.js';
import { createDatabase } from '../core/db/database.js';
import { migrateToLatest } from '../core/db/migrate.js';
import type { LakeDb } from '../lake/db.js';
import { sweepExpiredUploads } from '../lake/original/uploads.js';
import { blobsInUse } from './blobs-in-use.js';
import { configFrom, withCommonOptions } from './common.js';

/** `90`, `90s`, `15m`, `1h`, `2d` → milliseconds. */
export function parseDuration(text: string): number {
  const seconds = durationSeconds(text);
  if (seconds === undefined) throw new Error(`--grace must look like 30s, 15m, 1h or 2d (got "${text}")`);
  return seconds * 1000;
}

export function registerGc(program: Command) {
  withCommonOptions(program.command('gc').description('delete stored file content that no live file references'))
    .option('--grace <duration>', 'keep anything younger than this, so running uploads are safe (e.g. 30m, 1h, 2d)', '1h')
    .option('--dry-run', 'only report what would be deleted')
    .action(async (flags) => {
      const config = configFrom(flags);
      const graceMs = parseDuration(flags.grace);
      const database = createDatabase(config.databaseUrl);
      try {
        await migrateToLatest(database.db);
        const store = await createBlobStore(config);
        const expired = flags.dryRun ? 0 : await sweepExpiredUploads(database.db as LakeDb, store);
        const report = await collectGarbage(store, {
          graceMs,
          dryRun: Boolean(flags.dryRun),
          referenced: blobsInUse(database.db),
        });
        const verb = flags.dryRun ? 'would delete' : 'deleted';
        console.log(
          `Scanned ${report.scanned} blobs: ${report.referenced} in use, ${report.young} younger than the grace period, ` +
            `${verb} ${report.deleted} (${report.deletedBytes} bytes); removed ${report.leftoversRemoved} upload leftovers` +
            (flags.dryRun ? '.' : ` and ${expired} expired staged uploads.`),
        );
      } finally {
        await database.close();
      }
    });
}
