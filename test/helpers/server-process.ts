import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';
import type { DialectName } from '../../src/core/db/database.js';
import { createTestSchema, urlWithSchema } from './pg.js';

const ENTRY = fileURLToPath(new URL('./cli-entry.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  child: ChildProcess;
  output(): { stdout: string; stderr: string };
  /** Resolves when the process has exited. */
  exited: Promise<CliResult>;
}

/** Runs the real `dreamlake` command (from the sources, through tsx) as a child process. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
    cwd: ROOT,
    env: { ...process.env, DREAMLAKE_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<CliResult>((resolve) =>
    child.on('exit', (code, signal) => {
      // Let the pipes drain.
      setImmediate(() => resolve({ code, signal, stdout, stderr }));
    }),
  );
  return { child, output: () => ({ stdout, stderr }), exited };
}

/** Runs a command to its end. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 90_000): Promise<CliResult> {
  const cli = spawnCli(args, env);
  const timer = setTimeout(() => cli.child.kill('SIGKILL'), timeoutMs);
  try {
    return await cli.exited;
  } finally {
    clearTimeout(timer);
  }
}

export interface ServerProcess extends CliProcess {
  url: string;
}

/** `dreamlake serve --port 0 …` as a child process, once it prints the URL it listens on. */
export async function startServerProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ServerProcess> {
  const cli = spawnCli(['serve', '--port', '0', ...args], env);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${JSON.stringify(cli.output())}`)), 90_000);
    const onData = () => {
      const m = /DreamLake listening on (http:\/\/\S+)/.exec(cli.output().stdout);
      if (m) {
        clearTimeout(timer);
        cli.child.stdout!.off('data', onData);
        resolve(m[1]);
      }
    };
    cli.child.stdout!.on('data', onData);
    void cli.exited.then((r) => {
      clearTimeout(timer);
      reject(new Error(`server exited before listening (code ${r.code}):\n${r.stderr}\n${r.stdout}`));
    });
  });
  return { ...cli, url };
}

/**
 * A data folder of its own for a server process (removed when the test ends) and its database: a SQLite file in
 * that folder, or a fresh PostgreSQL schema.
 */
export async function serverStorage(dialect: DialectName, name: string): Promise<{ dataDir: string; database: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), `dreamlake-${name}-`));
  onTestFinished(() => rmSync(dataDir, { recursive: true, force: true }));
  const database = dialect === 'sqlite' ? join(dataDir, 'dreamlake.sqlite') : urlWithSchema(await createTestSchema());
  return { dataDir, database };
}
