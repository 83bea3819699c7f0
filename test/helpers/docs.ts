/**
 * Executable documentation: runs the shell walkthroughs of README.md and docs/*.md against a real server.
 *
 * The convention (also in docs/README.md):
 * - Fenced blocks whose info string starts with `sh`, `bash` or `shell` are RUN; every other fence (```text,
 *   ```console, ```ini, ```json, no language…) is not. Fence a block as ```sh only if it runs as written after
 *   the previous ```sh blocks of the same document, against a fresh server with no data. Commands that cannot
 *   run in a test (npm install, starting the server, npm test) go in a ```console block.
 * - All runnable blocks of one document run in order in ONE bash process (`set -Eeuo pipefail`), so variables
 *   carry over from block to block, in a fresh working directory inside the repository (so `npx dreamlake …`
 *   works, and `./data`, the server's data dir, is where the CLI looks by default). Each document gets its own
 *   server: `dreamlake serve --port 0 --data ./data` (the built CLI; the runner rebuilds dist/ when src/ is
 *   newer), and, on PostgreSQL, a fresh schema whose URL is exported as DREAMLAKE_DATABASE_URL (the "same
 *   --database as the server" the docs ask for).
 * - Write the server's address as the reader has it: `http://localhost:8080` or `http://127.0.0.1:8080`. The
 *   runner replaces `localhost:8080` and `127.0.0.1:8080` with the address of its server before running a block.
 * - `curl` fails on an HTTP error status (the runner adds `--fail-with-body`), unless the command already says
 *   `-f`/`--fail…` or prints the status itself with `-w`/`--write-out`. Show an expected error with
 *   `curl -s -o /dev/null -w '%{http_code}\n' …` followed by a `# → 404` line.
 * - A comment line `# → <expected>` right after a command states what the commands above it (since the block's
 *   start or the previous `# →`) print, and is checked. It may continue on following comment lines indented
 *   by two or more spaces (`#   "more": 1}`). Shell variables in it are expanded (`# → {"members":["$NODE1"]}`).
 *   If it is JSON (after the `…` rules below), the LAST JSON value printed must match it: objects match when
 *   every key shown matches (others may be present), arrays element by element; `…` inside a string matches
 *   any text (`"01k…"`, `"2026-…Z"`), a bare `…` as a value matches any value (`"size":…`), in an object
 *   it stands for other keys, and in an array for any further elements. Otherwise it is text: each of its lines must appear, in order, among the printed lines
 *   (trimmed; `…` matches any text).
 * - Anything else worth checking is an ordinary command: `test "$(…)" = 3`, `grep -q …`. It fails the run.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const RUNNABLE = /^(sh|bash|shell)\b/;

export interface Block {
  lang: string;
  /** 1-based line of the block's first code line in the document. */
  line: number;
  lines: string[];
}

/** The fenced code blocks of a Markdown document, in order. */
export function extractBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^ {0,3}(`{3,}|~{3,})\s*([^`]*)$/.exec(lines[i]);
    if (!open) continue;
    const fence = open[1];
    const lang = open[2].trim();
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(lines[j]);
      if (close && close[1][0] === fence[0] && close[1].length >= fence.length) break;
      body.push(lines[j]);
    }
    blocks.push({ lang, line: i + 2, lines: body });
    i = j;
  }
  return blocks;
}

export const isRunnable = (block: Block) => RUNNABLE.test(block.lang);

/** The documents whose walkthroughs are tested: README.md and docs/*.md. */
export function documents(): string[] {
  const docs = readdirSync(join(REPO, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs];
}

interface Expectation {
  n: number;
  doc: string;
  line: number;
}

/** One bash script for all runnable blocks of a document, and what its `# →` lines expect. */
export function buildScript(doc: string, blocks: Block[], baseUrl: string) {
  const expectations: Expectation[] = [];
  const out: string[] = [
    'set -Eeuo pipefail',
    // curl fails on an HTTP error unless the command handles the status itself (see the convention above).
    'curl() {',
    '  local a',
    '  for a in "$@"; do',
    '    case "$a" in',
    '      --fail|--fail-with-body|--fail-early|-w|--write-out) command curl "$@" || return; return;;',
    '      --*) ;;',
    '      -*[fw]*) command curl "$@" || return; return;;',
    '    esac',
    '  done',
    '  command curl --fail-with-body "$@" || return',
    '}',
    // `npx dreamlake` is this package's own CLI (npx finds it through package.json "bin"); calling it directly
    // saves npm's start-up (~0.6 s of CPU a call). .ci/smoke runs the real `npx dreamlake`.
    'npx() { if [ "${1:-}" = dreamlake ]; then shift; node "$__DL_REPO/bin/dreamlake.js" "$@"; else command npx "$@"; fi; }',
    // Reports the first failure once (with -E the trap also runs inside functions such as curl above).
    'trap \'__dl_rc=$?; [ -n "${__dl_failed:-}" ] || { __dl_failed=1; printf "\\n__DL_FAILED__ %s %s\\n" "$LINENO" "$__dl_rc" >&2; }\' ERR',
  ];
  const lineMap: Array<{ scriptLine: number; doc: string; line: number }> = [];
  const emit = (text: string, docLine?: number) => {
    if (docLine !== undefined) lineMap.push({ scriptLine: out.length + 1, doc, line: docLine });
    out.push(text);
  };
  const hostPort = new URL(baseUrl).host;
  const rewrite = (text: string) => text.replace(/\b(localhost|127\.0\.0\.1):8080\b/g, hostPort);

  for (const block of blocks) {
    emit(`# ---- ${doc}:${block.line}`);
    let segment: Array<{ text: string; line: number }> = [];
    const flush = (expected?: { text: string; line: number }) => {
      if (!expected) {
        for (const s of segment) emit(rewrite(s.text), s.line);
      } else {
        const n = expectations.length + 1;
        expectations.push({ n, doc, line: expected.line });
        emit('{');
        for (const s of segment) emit(rewrite(s.text), s.line);
        emit(`} > "$__DL_OUT/${n}.out"; cat "$__DL_OUT/${n}.out"; echo`);
        emit(`cat > "$__DL_OUT/${n}.expected" <<__DL_EXPECTED__`, expected.line);
        emit(rewrite(expected.text));
        emit('__DL_EXPECTED__');
      }
      segment = [];
    };
    for (let i = 0; i < block.lines.length; i++) {
      const text = block.lines[i];
      const arrow = /^\s*#\s*→\s?(.*)$/.exec(text);
      if (!arrow) {
        segment.push({ text, line: block.line + i });
        continue;
      }
      const parts = [arrow[1]];
      while (i + 1 < block.lines.length && /^\s*# {2,}\S/.test(block.lines[i + 1])) {
        parts.push(block.lines[++i].replace(/^\s*#/, ''));
      }
      flush({ text: parts.join('\n'), line: block.line + i });
    }
    flush();
  }
  return { script: out.join('\n') + '\n', expectations, lineMap };
}

// ---------------------------------------------------------------------------------------------- matching

const ELLIPSIS = '__docs_ellipsis__';
const ANY = '__docs_any_value__';

/** Parses an expectation as a JSON pattern (see the convention), or returns undefined for a text pattern. */
export function parsePattern(text: string): { value: unknown } | undefined {
  let json = '';
  const stack: string[] = [];
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      json += c;
      if (c === '\\') json += text[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') stack.push(c);
    else if (c === '}' || c === ']') stack.pop();
    else if (c === '…') {
      const top = stack[stack.length - 1];
      if (json.trimEnd().endsWith(':')) json += `"${ANY}"`;
      else if (top === '{') json += `"${ELLIPSIS}":0`;
      else if (top === '[') json += `"${ELLIPSIS}"`;
      else return undefined;
      continue;
    }
    json += c;
  }
  try {
    return { value: JSON.parse(json) };
  } catch {
    return undefined;
  }
}

const globToRegExp = (glob: string, flags = '') =>
  new RegExp(`^${glob.split('…').map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, `s${flags}`);

/** Why `actual` does not match `pattern`, or undefined when it does. */
export function mismatch(actual: unknown, pattern: unknown, path = '$'): string | undefined {
  if (pattern === ANY) return undefined;
  if (typeof pattern === 'string' && pattern.includes('…')) {
    if (typeof actual !== 'string') return `${path}: expected a string like ${JSON.stringify(pattern)}, got ${JSON.stringify(actual)}`;
    return globToRegExp(pattern).test(actual) ? undefined : `${path}: ${JSON.stringify(actual)} is not like ${JSON.stringify(pattern)}`;
  }
  if (Array.isArray(pattern)) {
    if (!Array.isArray(actual)) return `${path}: expected an array, got ${JSON.stringify(actual)}`;
    const rest = pattern.indexOf(ELLIPSIS);
    const head = rest < 0 ? pattern : pattern.slice(0, rest);
    const tail = rest < 0 ? [] : pattern.slice(rest + 1);
    if (rest < 0 ? actual.length !== pattern.length : actual.length < head.length + tail.length) {
      return `${path}: expected ${rest < 0 ? '' : 'at least '}${head.length + tail.length} elements, got ${actual.length}: ${JSON.stringify(actual)}`;
    }
    for (let i = 0; i < head.length; i++) {
      const why = mismatch(actual[i], head[i], `${path}[${i}]`);
      if (why) return why;
    }
    for (let i = 0; i < tail.length; i++) {
      const at = actual.length - tail.length + i;
      const why = mismatch(actual[at], tail[i], `${path}[${at}]`);
      if (why) return why;
    }
    return undefined;
  }
  if (pattern !== null && typeof pattern === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) {
      return `${path}: expected an object, got ${JSON.stringify(actual)}`;
    }
    for (const [key, value] of Object.entries(pattern)) {
      if (key === ELLIPSIS) continue;
      if (!(key in actual)) return `${path}: no key "${key}" in ${JSON.stringify(actual)}`;
      const why = mismatch((actual as Record<string, unknown>)[key], value, `${path}.${key}`);
      if (why) return why;
    }
    return undefined;
  }
  return Object.is(actual, pattern) ? undefined : `${path}: expected ${JSON.stringify(pattern)}, got ${JSON.stringify(actual)}`;
}

/** The JSON values printed one after another (curl prints bodies without a newline), or undefined. */
export function jsonValues(text: string): unknown[] | undefined {
  const values: unknown[] = [];
  let i = 0;
  const skip = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  skip();
  while (i < text.length) {
    const start = i;
    if (text[i] === '{' || text[i] === '[') {
      let depth = 0;
      let inString = false;
      for (; i < text.length; i++) {
        const c = text[i];
        if (inString) {
          if (c === '\\') i++;
          else if (c === '"') inString = false;
        } else if (c === '"') inString = true;
        else if (c === '{' || c === '[') depth++;
        else if (c === '}' || c === ']') {
          if (--depth === 0) {
            i++;
            break;
          }
        }
      }
    } else {
      while (i < text.length && !/\s/.test(text[i])) i++;
    }
    try {
      values.push(JSON.parse(text.slice(start, i)));
    } catch {
      return undefined;
    }
    skip();
  }
  return values;
}

/** Checks what a segment printed against its `# →` line; returns why it does not match. */
export function checkOutput(output: string, expected: string): string | undefined {
  const pattern = parsePattern(expected.trim());
  if (pattern) {
    const values = jsonValues(output);
    if (values && values.length > 0) return mismatch(values[values.length - 1], pattern.value);
    // Not JSON: fall through to a text comparison (e.g. "# → 500" against "500 bytes").
  }
  const lines = output.split('\n').map((l) => l.trim());
  let from = 0;
  for (const want of expected.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const re = globToRegExp(want, 'i'); // case-insensitive: HTTP header names
    const at = lines.findIndex((l, k) => k >= from && re.test(l));
    if (at < 0) return `no printed line is like ${JSON.stringify(want)}`;
    from = at + 1;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------- running

/** Rebuilds dist/ (what bin/dreamlake.js and `npx dreamlake` run) when any file of src/ is newer. */
export function ensureBuilt() {
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
      const p = join(dir, e.name);
      return Math.max(m, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
    }, 0);
  const built = join(REPO, 'dist/cli/main.js');
  if (existsSync(built) && statSync(built).mtimeMs >= newest(join(REPO, 'src'))) return;
  console.log('docs runner: dist/ is older than src/, running npm run build');
  const r = spawnSync('npm', ['run', 'build'], { cwd: REPO, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stdout}\n${r.stderr}`);
}

/** The environment of the server and of the blocks: the user's, minus anything that would configure DreamLake. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(DREAMLAKE_|DREAMSCRIPT_|DREAMSPACE_|VITEST|npm_|NODE_OPTIONS$|NODE_ENV$|TEST$)/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM') {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    /* already gone */
  }
}

async function startServer(cwd: string, env: NodeJS.ProcessEnv, databaseUrl?: string) {
  const args = ['bin/dreamlake.js', 'serve', '--port', '0', '--data', join(cwd, 'data'), '--log-level', 'warn'];
  if (databaseUrl) args.push('--database', databaseUrl);
  const child = spawn(process.execPath, [join(REPO, args[0]), ...args.slice(1)], {
    cwd,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 20 s:\n${log}`)), 20_000);
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      const m = /listening on (http:\/\/\S+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening:\n${log}`));
    });
  });
  return { url, child, log: () => log };
}

export interface DocRun {
  ok: boolean;
  /** What went wrong, with the document line, ready for an assertion message. */
  failure?: string;
  blocks: number;
  checks: number;
  ms: number;
}

/**
 * Runs the runnable blocks of `doc` (a path relative to the repository) against a fresh server.
 * `databaseUrl`: a PostgreSQL URL (fresh schema) to run on instead of SQLite.
 */
export async function runDocument(doc: string, options: { databaseUrl?: string; timeoutMs?: number } = {}): Promise<DocRun> {
  const started = Date.now();
  const blocks = extractBlocks(readFileSync(join(REPO, doc), 'utf8')).filter(isRunnable);
  if (blocks.length === 0) return { ok: true, blocks: 0, checks: 0, ms: 0 };

  // Inside the repository, so that `npx dreamlake` finds this package's CLI.
  const root = join(REPO, 'node_modules/.cache/dreamlake-docs');
  mkdirSync(root, { recursive: true });
  const cwd = join(root, `${doc.replace(/[^a-z0-9]+/gi, '-')}-${process.pid}-${Date.now().toString(36)}`);
  const outDir = join(cwd, '.dl-out');
  mkdirSync(outDir, { recursive: true });
  const dbEnv: Record<string, string> = options.databaseUrl ? { DREAMLAKE_DATABASE_URL: options.databaseUrl } : {};
  const server = await startServer(cwd, cleanEnv({}), options.databaseUrl);
  let passed = false;
  try {
    const { script, expectations, lineMap } = buildScript(doc, blocks, server.url);
    writeFileSync(join(outDir, 'script.sh'), script);
    const shell = spawn('bash', [join(outDir, 'script.sh')], {
      cwd,
      env: cleanEnv({ __DL_OUT: outDir, __DL_REPO: REPO, ...dbEnv }),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    shell.stdout!.on('data', (c: Buffer) => (log += c.toString()));
    shell.stderr!.on('data', (c: Buffer) => (log += c.toString()));
    const timeoutMs = options.timeoutMs ?? 120_000;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(shell, 'SIGKILL');
    }, timeoutMs);
    const code = await new Promise<number | null>((res) => shell.on('close', (c) => res(c)));
    clearTimeout(timer);
    killGroup(shell, 'SIGKILL'); // background jobs a block left behind

    const tail = (text: string) => text.split('\n').slice(-40).join('\n');
    const where = (scriptLine: number) => {
      let best = lineMap[0];
      for (const m of lineMap) if (m.scriptLine <= scriptLine) best = m;
      if (!best) return doc;
      const text = readFileSync(join(REPO, best.doc), 'utf8').split('\n')[best.line - 1]?.trim();
      return `${best.doc}:${best.line}: \`${text}\``;
    };
    const base = { blocks: blocks.length, checks: expectations.length, ms: Date.now() - started };
    if (timedOut) return { ok: false, ...base, failure: `${doc}: still running after ${timeoutMs} ms\n${tail(log)}` };
    if (code !== 0) {
      const m = /__DL_FAILED__ (\d+) (\d+)/.exec(log);
      const at = m ? `${where(Number(m[1]))} exited with ${m[2]}` : `${doc}: bash exited with ${code}`;
      return { ok: false, ...base, failure: `${at}\n(the run is kept in ${cwd})\n--- output (last lines) ---\n${tail(log)}\n--- server log ---\n${tail(server.log())}` };
    }
    for (const e of expectations) {
      const output = readFileSync(join(outDir, `${e.n}.out`), 'utf8');
      const expected = readFileSync(join(outDir, `${e.n}.expected`), 'utf8');
      const why = checkOutput(output, expected);
      if (why) {
        return {
          ok: false,
          ...base,
          failure: `${e.doc}:${e.line}: the output does not match "# → ${expected.trim()}"\n${why}\n--- printed ---\n${output}`,
        };
      }
    }
    passed = true;
    return { ok: true, ...base };
  } finally {
    const exited = new Promise((res) => server.child.once('exit', res));
    killGroup(server.child);
    await Promise.race([exited, new Promise((res) => setTimeout(res, 5000))]);
    killGroup(server.child, 'SIGKILL');
    // A failed run keeps its directory (script.sh, outputs, data/) to look at.
    if (passed && !process.env.DREAMLAKE_DOCS_KEEP) rmSync(cwd, { recursive: true, force: true });
  }
}

export const relativeToRepo = (p: string) => relative(REPO, p);
