// `npm run bench -- fuzz`: a bigger run of the fuzzers of test/hardening/fuzz.test.ts (every OpenAPI operation,
// and the CouchDB endpoint), in process (app.inject), on SQLite and (with DREAMLAKE_TEST_POSTGRES_URL)
// PostgreSQL. FUZZ_RUNS requests per fuzzer and database (default 20,000), FUZZ_SEED to replay. Prints the
// count of requests and of failures (5xx; for CouchDB also a 4xx not in its {error, reason} shape).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../src/app.js';
import { signToken } from '../src/core/auth/jwt.js';
import { loadConfig } from '../src/core/config.js';
import { createDatabase } from '../src/core/db/database.js';
import { fuzz, type FuzzReport } from '../test/helpers/fuzz.js';
import { fuzzCouch } from '../test/helpers/fuzz-couch.js';
import { couchFuzzTarget, fuzzTarget, type FuzzApp } from '../test/helpers/fuzz-target.js';
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
      const fuzzApp: FuzzApp = {
        database,
        auth: async (username) => ({ authorization: `Bearer ${await signToken(BENCH_JWT_SECRET, username, 1)}` }),
        inject: (options) => app.inject(options),
      };
      const runs: [string, () => Promise<FuzzReport>][] = [
        ['openapi', async () => fuzz(await fuzzTarget(fuzzApp, BENCH_SPACE_TOKEN), { runs: RUNS, seed: SEED })],
        ['couch', async () => fuzzCouch(await couchFuzzTarget(fuzzApp), { runs: RUNS, seed: SEED })],
      ];
      for (const [name, runOne] of runs) {
        const started = Date.now();
        const report = await runOne();
        total += report.requests;
        failures += report.failures.length;
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        console.log(`fuzz ${name} ${dialect} (seed ${SEED}): ${report.requests} requests in ${seconds} s, ${report.failures.length} failures`);
        console.log(`  statuses: ${JSON.stringify(report.byStatus)}`);
        // 5xx first: the worst failures are the ones to see.
        for (const f of [...report.failures].sort((x, y) => y.status - x.status).slice(0, 10)) console.log(`  ${f.status} ${f.request}\n      → ${f.body}`);
      }
    } finally {
      await app.close();
      if (schema) await adminQuery(`drop schema ${schema} cascade`);
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  console.log(`fuzz total: ${total} requests, ${failures} failures`);
  if (failures > 0) process.exitCode = 1;
}
