// `npm run bench -- crash`: the kill -9 drill of test/ops/crash.test.ts with many more cycles (CRASH_CYCLES,
// default 20) on SQLite and (with DREAMLAKE_TEST_POSTGRES_URL) PostgreSQL: the real server (from the sources)
// under writes on all three APIs, SIGKILLed at a random moment, restarted on the same data; every acknowledged
// write is read back after every restart. Prints what was acknowledged, lost (should be nothing) and the 5xx.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCrashDrill } from '../test/helpers/crash-drill.js';
import { adminQuery, PG_URL, type DialectName } from './lib.js';

const CYCLES = Number(process.env.CRASH_CYCLES ?? 20);

export async function run(dialects: DialectName[]) {
  let bad = 0;
  for (const dialect of dialects) {
    const dataDir = mkdtempSync(join(tmpdir(), 'dreamlake-crash-'));
    const schema = dialect === 'postgres' ? `crash_${Date.now().toString(36)}` : undefined;
    if (schema) await adminQuery(`create schema ${schema}`);
    const database = schema ? `${PG_URL}${PG_URL!.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}` : join(dataDir, 'dreamlake.sqlite');
    try {
      const started = Date.now();
      const r = await runCrashDrill({ dataDir, database, cycles: CYCLES });
      const restarts = [...r.restartMs].sort((a, b) => a - b);
      console.log(`crash ${dialect}: ${r.cycles} kill -9 cycles in ${((Date.now() - started) / 1000).toFixed(0)} s; acknowledged ${JSON.stringify(r.acked)}`);
      console.log(`  lost after restart: ${r.lost.length}; 5xx: ${r.serverErrors.length}; restart to listening: median ${restarts[restarts.length >> 1]} ms, max ${restarts.at(-1)} ms`);
      console.log(`  answers and connection errors: ${JSON.stringify(r.statuses)}`);
      for (const line of [...r.lost, ...r.serverErrors].slice(0, 10)) console.log(`  ${line}`);
      bad += r.lost.length + r.serverErrors.length;
    } finally {
      if (schema) await adminQuery(`drop schema ${schema} cascade`);
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  if (bad > 0) process.exitCode = 1;
}
