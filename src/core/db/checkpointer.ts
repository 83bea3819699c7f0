import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * SQLite's automatic checkpoint runs inside the commit that pushes the WAL past 1,000 pages: it copies the WAL
 * into the database file and syncs it, on the connection that committed. better-sqlite3 is synchronous, so
 * that is the server's event loop, stalled for the copy and the sync (measured: 30 ms and more, every few
 * hundred small writes, the p99 of a live change). The server's connection turns its automatic checkpoint off
 * and this worker thread, with a connection of its own, checkpoints instead (PASSIVE: it never blocks readers
 * or writers) whenever the WAL has grown by `pages` since the last one. Same durability: checkpoints only move
 * committed pages from the WAL into the database file.
 */
export interface Checkpointer {
  /** Stops the worker (after a checkpoint in progress ends) and closes its connection. */
  close(): Promise<void>;
}

// CommonJS, evaluated in the worker: no file of its own, so it runs alike from dist/, from tsx and under vitest.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
db.pragma('wal_autocheckpoint = 0');
let timer;
const tick = () => {
  let again = false;
  try {
    // [busy, frames in the WAL, frames checkpointed]; a PASSIVE checkpoint with nothing to copy does nothing.
    const [row] = db.pragma('wal_checkpoint(PASSIVE)');
    again = row !== undefined && row.log - row.checkpointed >= workerData.pages;
  } catch {
    // busy or locked: try again at the next tick
  }
  timer = setTimeout(tick, again ? 0 : workerData.intervalMs);
};
timer = setTimeout(tick, workerData.intervalMs);
parentPort.on('message', () => {
  clearTimeout(timer);
  db.close();
  parentPort.close();
});
`;

/**
 * Starts checkpointing `file` in a worker thread, every `intervalMs` (and at once again while `pages` or more
 * are left), and turns off the automatic checkpoint of the caller's connection by way of `disableAuto`, once
 * the worker runs. If the worker fails, `enableAuto` turns it back on.
 */
export function startCheckpointer(file: string, disableAuto: () => void, enableAuto: () => void, intervalMs = 200, pages = 1000): Checkpointer {
  const module = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER, { eval: true, workerData: { file, module, intervalMs, pages } });
  // The server exits without waiting for it.
  worker.unref();
  let running = false;
  worker.once('online', () => {
    running = true;
    disableAuto();
  });
  let closing = false;
  const exited = new Promise<void>((resolve) =>
    worker.once('exit', () => {
      // Ended by an error or otherwise before close(): the connection checkpoints for itself again.
      if (running && !closing) enableAuto();
      running = false;
      resolve();
    }),
  );
  worker.on('error', () => {});
  return {
    async close() {
      closing = true;
      // Kept alive until it has closed its connection.
      worker.ref();
      worker.postMessage('close');
      await exited;
    },
  };
}
