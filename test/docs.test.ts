/**
 * Executable documentation: every ```sh block of README.md and docs/*.md runs, in order, against a fresh
 * server per document (SQLite; PostgreSQL too when DREAMLAKE_TEST_POSTGRES_URL is set). The convention for
 * writing runnable docs is at the top of test/helpers/docs.ts and in docs/README.md.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkOutput, documents, ensureBuilt, extractBlocks, isRunnable, parsePattern, REPO, runDocument } from './helpers/docs.js';
import { DIALECTS } from './helpers/app.js';
import { createTestSchema, urlWithSchema } from './helpers/pg.js';

describe('the docs runner', () => {
  it('runs only sh/bash/shell fences', () => {
    const md = ['```sh', 'a', '```', '```console', 'b', '```', '```bash', 'c', '```', '```json', '{}', '```', '```', 'd', '```'].join('\n');
    const blocks = extractBlocks(md);
    expect(blocks.map((b) => b.lang)).toEqual(['sh', 'console', 'bash', 'json', '']);
    expect(blocks.filter(isRunnable).map((b) => [b.lines.join(), b.line])).toEqual([['a', 2], ['c', 8]]);
  });

  it('matches "# →" expectations: subsets, … wildcards, the last JSON value printed, text lines', () => {
    expect(checkOutput('{"a":1,"b":"01kxyz","c":[1,2,3]}', '{"b":"01k…","c":[1,…]}')).toBeUndefined();
    expect(checkOutput('{"a":1}{"a":2}', '{"a":2}')).toBeUndefined();
    expect(checkOutput('{"a":1}', '{…, "a": 2}')).toMatch(/expected 2, got 1/);
    expect(checkOutput('{"c":[1,2]}', '{"c":[1]}')).toMatch(/expected 1 elements/);
    expect(checkOutput('{"x":1}', '{"y":1}')).toMatch(/no key "y"/);
    expect(checkOutput('500\n', '500')).toBeUndefined();
    expect(checkOutput('HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-0/9\r\n', 'HTTP/1.1 206…\nContent-Range: bytes 0-0/9')).toBeUndefined();
    expect(checkOutput('plain text', 'other')).toMatch(/no printed line/);
    expect(checkOutput('{"size":12,"id":"x"}', '{"size":…,"id":"x"}')).toBeUndefined();
    expect(parsePattern('User 1 not found.')).toBeUndefined();
  });


  it('fails a document at the line whose request fails, after checking what the earlier lines printed', async () => {
    ensureBuilt();
    const dir = join(REPO, 'node_modules/.cache/dreamlake-docs');
    mkdirSync(dir, { recursive: true });
    const doc = relative(REPO, join(dir, `selftest-${process.pid}.md`));
    const lines = [
      '# A walkthrough that breaks',
      '```sh',
      'B=http://localhost:8080',
      'curl -s $B/health',
      '# → {"status":"ok"}',
      '```',
      'Not run:',
      '```console',
      '$ exit 1',
      '```',
      '```sh',
      'curl -s $B/health/nope      # a 404: curl fails, so the document does',
      'echo never',
      '```',
    ];
    writeFileSync(join(REPO, doc), lines.join('\n'));
    try {
      const run = await runDocument(doc, { timeoutMs: 60_000 });
      expect(run.ok).toBe(false);
      expect(run.checks).toBe(1);
      expect(run.failure).toContain(`${doc}:12: \`curl -s $B/health/nope`);
      expect(run.failure).not.toContain('never');
      const kept = /the run is kept in (\S+)\)/.exec(run.failure ?? '')?.[1];
      if (kept) rmSync(kept, { recursive: true, force: true });
    } finally {
      rmSync(join(REPO, doc), { force: true });
    }
  }, 90_000);
});

const docs = documents();
for (const dialect of DIALECTS) {
  describe(`walkthroughs on ${dialect}`, () => {
    it.each(docs)('%s runs as written', async (doc) => {
      ensureBuilt();
      const databaseUrl = dialect === 'postgres' ? urlWithSchema(await createTestSchema()) : undefined;
      // Generous: a walkthrough takes a few seconds, but the machine may be busy with other test files.
      const run = await runDocument(doc, { databaseUrl, timeoutMs: 150_000 });
      if (!run.ok) expect.fail(run.failure);
      if (run.blocks === 0) console.log(`${doc}: no runnable blocks`);
      expect(run.ok).toBe(true);
    }, 180_000);
  });
}
