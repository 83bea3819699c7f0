import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { DialectName } from '../../src/core/db/database.js';
import { DIALECTS } from '../helpers/app.js';
import { runCrashDrill } from '../helpers/crash-drill.js';
import { serverStorage } from '../helpers/server-process.js';

// kill -9 of the real server under writes on all three APIs (DreamLake files, Dreamscript documents, Dreamspace
// users, CouchDB _bulk_docs), three times on the same data: it starts again every time, every acknowledged write
// is there with its content, and no request got a 5xx. `npm run bench -- crash` runs many more cycles.

describe.each(DIALECTS)('kill -9 under write traffic (%s)', (dialect: DialectName) => {
  it('restarts after each kill with every acknowledged write intact and no 5xx', async () => {
    const { dataDir, database } = await serverStorage(dialect, 'crash');
    const report = await runCrashDrill({ dataDir, database, cycles: 3 });

    expect(report.cycles).toBe(3);
    expect(report.lost).toEqual([]);
    expect(report.serverErrors).toEqual([]);
    // The load was real: every kind of write was acknowledged, and the kills cut requests in flight.
    for (const kind of ['files', 'documents', 'users', 'couchDocs']) expect(report.acked[kind], kind).toBeGreaterThan(0);
    if (dialect === 'sqlite') {
      const db = new Database(database, { readonly: true });
      try {
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
        expect(db.pragma('foreign_key_check')).toEqual([]);
      } finally {
        db.close();
      }
    }
  }, 240_000);
});
