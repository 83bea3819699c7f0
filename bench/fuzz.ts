// `npm run bench -- fuzz`: a bigger run of the fuzzer of test/hardening/fuzz.test.ts, in process (app.inject),
// on SQLite and (with DREAMLAKE_TEST_POSTGRES_URL) PostgreSQL. FUZZ_RUNS requests per database (default
// 20,000), FUZZ_SEED to replay. Prints the count of requests and of 5xx, and the first failures.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../src/app.js';
import { signToken } from '../src/core/auth/jwt.js';
import { loadConfig } from '../src/core/config.js';
import { createDatabase } from '../src/core/db/database.js';
import { fuzz } from '../test/helpers/fuzz.js';
import { fuzzTarget } from '../test/helpers/fuzz-target.js';
import { adminQuery, BENCH_JWT_SECRET, BENCH_SPACE_TOKEN, PG_URL, type DialectName } from './lib.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 20_000);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);


export async function run(dialects: DialectName[]) {
  let total = 0;
  let failures = 0;
  for (const dialect of dialects) {
    const dataDir = mkdtempSync(join(tmpdir(), 'dreamlake-fuzz-'));
    const schema = dialect === 'postgres' ? `fuzz_${Date.now().toString(36)}` : undefined;
    if (schema) await adminQuery(`create schema ${schema}`);
    const config = loadConfig(
      { data: dataDir, database: dialect === 'postgres' ? PG_URL : join(dataDir, 'dreamlake.sqlite') },
      { DREAMLAKE_JWT_SECRET: BENCH_JWT_SECRET, DREAMSPACE_APITOKEN: BENCH_SPACE_TOKEN, DREAMSCRIPT_RATE_LIMIT: '0' },
    );
    const database = createDatabase(config.databaseUrl, { schema, poolSize: 5 });
    const app = await buildApp(config, { database, logger: false });
    try {
      const started = Date.now();
      const target = await fuzzTarget(
        {
          database,
          auth: async (username) => ({ authorization: `Bearer ${await signToken(BENCH_JWT_SECRET, username, 1)}` }),
          inject: (options) => app.inject(options),
        },
        BENCH_SPACE_TOKEN,
      );
      const report = await fuzz(target, { runs: RUNS, seed: SEED });
      total += report.requests;
      failures += report.failures.length;
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      console.log(`fuzz ${dialect} (seed ${SEED}): ${report.requests} requests in ${seconds} s, ${report.failures.length} 5xx`);
      console.log(`  statuses: ${JSON.stringify(report.byStatus)}`);
      for (const f of report.failures.slice(0, 10)) console.log(`  ${f.status} ${f.request}\n      → ${f.body}`);
    } finally {
      await app.close();
      if (schema) await adminQuery(`drop schema ${schema} cascade`);
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  console.log(`fuzz total: ${total} requests, ${failures} 5xx`);
  if (failures > 0) process.exitCode = 1;
}
