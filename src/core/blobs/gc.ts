import type { BlobEntry, BlobStore } from './store.js';

export interface GcOptions {
  /** Blobs and upload leftovers younger than this are kept, so the collector is safe while uploads run. */
  graceMs: number;
  /** The subset of `sha256s` that something still references (asked in batches). */
  referenced(sha256s: string[]): Promise<Set<string>>;
  dryRun?: boolean;
  batchSize?: number;
  now?: Date;
}

export interface GcReport {
  scanned: number;
  referenced: number;
  young: number;
  deleted: number;
  deletedBytes: number;
  leftoversRemoved: number;
}

/** Deletes the blobs nothing references that are older than the grace period, and old upload leftovers. */
export async function collectGarbage(store: BlobStore, options: GcOptions): Promise<GcReport> {
  const cutoff = new Date((options.now ?? new Date()).getTime() - options.graceMs);
  const batchSize = options.batchSize ?? 500;
  const report: GcReport = { scanned: 0, referenced: 0, young: 0, deleted: 0, deletedBytes: 0, leftoversRemoved: 0 };

  let batch: BlobEntry[] = [];
  const flush = async () => {
    const live = await options.referenced(batch.map((b) => b.sha256));
    for (const blob of batch) {
      if (live.has(blob.sha256)) {
        report.referenced++;
      } else if (blob.modifiedAt >= cutoff) {
        report.young++;
      } else if (options.dryRun || (await store.delete(blob.sha256, { olderThan: cutoff }))) {
        report.deleted++;
        report.deletedBytes += blob.size;
      } else {
        report.young++; // re-written by an upload while we looked
      }
    }
    batch = [];
  };

  // References are checked first, whatever the age: a referenced blob is "in use", not "young".
  for await (const blob of store.list()) {
    report.scanned++;
    batch.push(blob);
    if (batch.length >= batchSize) await flush();
  }
  if (batch.length) await flush();
  if (!options.dryRun) report.leftoversRemoved = await store.sweep(cutoff);
  return report;
}
