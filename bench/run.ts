// `npm run bench [-- lake nodes script space]`: starts the built server as a child process pinned to core 0 and
// drives it from this process, pinned to core 1, on SQLite and (when DREAMLAKE_TEST_POSTGRES_URL is set) PostgreSQL.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dialectsToRun } from './lib.js';

const SUITES = ['lake', 'nodes', 'script', 'space', 'couch', 'bigfiles'] as const;
/** Run only when named (`npm run bench -- fuzz`, `-- crash`): not benchmarks, searches for 5xx and lost writes. */
const ON_REQUEST = ['fuzz', 'crash'] as const;
const here = dirname(fileURLToPath(import.meta.url));

async function main() {
  spawnSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const suites: string[] = wanted.length ? [...SUITES, ...ON_REQUEST].filter((s) => wanted.includes(s)) : [...SUITES];
  const dialects = dialectsToRun();
  console.log(`DreamLake benchmarks: ${suites.join(', ')} on ${dialects.join(' and ')}`);
  if (!dialects.includes('postgres')) console.log('(PostgreSQL skipped: set DREAMLAKE_TEST_POSTGRES_URL to include it)');
  for (const suite of suites) {
    if (!existsSync(join(here, `${suite}.ts`))) {
      console.log(`\n== ${suite}: no benchmark yet`);
      continue;
    }
    console.log(`\n== ${suite}`);
    const mod = (await import(`./${suite}.js`)) as { run(d: typeof dialects): Promise<void> };
    await mod.run(dialects);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
