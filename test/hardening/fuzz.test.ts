import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DIALECTS, type TestApp } from '../helpers/app.js';
import { fuzz } from '../helpers/fuzz.js';
import { fuzzCouch } from '../helpers/fuzz-couch.js';
import { couchFuzzTarget, fuzzTarget } from '../helpers/fuzz-target.js';

// Malformed requests over every operation of /openapi.json and deeper Dreamspace paths, and over the CouchDB
// endpoint (which /openapi.json leaves out): none may be a 5xx.
// Bounded for `npm test` (FUZZ_RUNS requests per database; FUZZ_SEED to replay); `npm run bench -- fuzz`
// runs a bigger one.
const RUNS = Number(process.env.FUZZ_RUNS ?? 700);
const COUCH_RUNS = Number(process.env.FUZZ_RUNS ?? 600);
const SEED = Number(process.env.FUZZ_SEED ?? 20261130);
const SPACE_KEY = 'fuzz-space-key';

for (const dialect of DIALECTS) {
  describe(`fuzzing every operation (${dialect})`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(dialect, { DREAMSPACE_APITOKEN: SPACE_KEY, DREAMSCRIPT_RATE_LIMIT: '0' });
    });
    afterAll(() => t.close());

    it(`answers ${RUNS} malformed requests without a 5xx`, { timeout: 120_000 }, async () => {
      const report = await fuzz(await fuzzTarget(t, SPACE_KEY), { runs: RUNS, seed: SEED + (dialect === 'postgres' ? 1 : 0) });
      console.log(`fuzz (${dialect}, seed ${SEED}): ${report.requests} requests, ${report.failures.length} 5xx; statuses ${JSON.stringify(report.byStatus)}`);
      expect(report.failures).toEqual([]);
      expect(report.requests).toBeGreaterThan(RUNS * 0.9);
      // The fuzzer reaches the routes, not only the guards: some requests succeed.
      expect(Object.keys(report.byStatus).some((s) => Number(s) < 300)).toBe(true);
    });

    // The CouchDB endpoint is not in /openapi.json: its own generator, and its own rule for 4xx bodies.
    it(`answers ${COUCH_RUNS} malformed CouchDB requests without a 5xx, every 4xx as {error, reason}`, { timeout: 120_000 }, async () => {
      const report = await fuzzCouch(await couchFuzzTarget(t), { runs: COUCH_RUNS, seed: SEED + (dialect === 'postgres' ? 1 : 0) });
      console.log(`fuzz couch (${dialect}, seed ${SEED}): ${report.requests} requests, ${report.failures.length} failures; statuses ${JSON.stringify(report.byStatus)}`);
      expect(report.failures).toEqual([]);
      expect(report.requests).toBeGreaterThan(COUCH_RUNS * 0.9);
      expect(Object.keys(report.byStatus).some((s) => Number(s) < 300)).toBe(true);
    });
  });
}
