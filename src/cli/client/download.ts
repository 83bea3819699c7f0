import { createHash, type Hash } from 'node:crypto';
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { Progress, formatBytes, type ProgressSink } from './progress.js';
import { configDir, errorOf, filesBelow, loadCredentials, lookup, parseTarget, Remote, RemoteError, type Fetch, type RemoteNode } from './remote.js';
import { readState, writeAtomically } from './state-file.js';

export interface TransferOptions {
  fetch?: Fetch;
  env?: NodeJS.ProcessEnv;
  out?: ProgressSink;
  log?: (line: string) => void;
  /** Parts in flight at once (default 4). */
  parallel?: number;
  /** Bytes per ranged request (default 8 MiB). */
  chunkSize?: number;
}

export interface TransferReport {
  transferred: number;
  skipped: number;
  bytes: number;
}

/** What a partly downloaded file has: kept in the config dir, keyed by the content's sha256. */
interface DownloadState {
  tmp: string;
  size: number;
  chunkSize: number;
  done: number[];
}

const MiB = 1024 * 1024;

/**
 * `dreamlake download ns/project/path [local]`: a file, or a folder/episode/project recursively. Each file is
 * fetched in ranged parts, 4 at a time, into `<dest>.dreamlake-partial`; finished parts are recorded in a state
 * file keyed by the content's sha256, so a re-run after a failure, Ctrl-C or a crash fetches only what is
 * missing. A file is verified against its sha256 before it takes its name; one already there is skipped.
 */
export async function download(target: string, local: string | undefined, options: TransferOptions = {}): Promise<TransferReport> {
  const env = options.env ?? process.env;
  const remote = new Remote(await loadCredentials(env), options.fetch);
  const { namespace, project, path } = parseTarget(target);
  const node = await lookup(remote, namespace, project, path);
  if (!node) throw new Error(`✗ nothing found at ${path} in ${namespace}/${project}`);

  const jobs: { node: RemoteNode; dest: string }[] = [];
  if (node.leaf) {
    let dest = local ?? node.name;
    if (local && (await stat(local).then((s) => s.isDirectory(), () => false))) dest = join(local, node.name);
    jobs.push({ node, dest });
  } else {
    const root = resolve(local ?? node.name);
    for await (const file of filesBelow(remote, namespace, project, node)) {
      const rel = relative(node.path, file.path);
      const dest = resolve(root, rel);
      if (!dest.startsWith(root + sep)) throw new Error(`✗ refusing to write outside ${root}: ${file.path}`);
      jobs.push({ node: file, dest });
    }
  }

  const progress = new Progress('download', options.out, options.log);
  const report: TransferReport = { transferred: 0, skipped: 0, bytes: 0 };
  const failures: string[] = [];
  progress.plan(jobs.reduce((sum, j) => sum + (j.node.size ?? 0), 0));
  try {
    for (const job of jobs) {
      try {
        if (await alreadyThere(job.dest, job.node)) {
          progress.skip(job.node.size ?? 0);
          report.skipped++;
          progress.line(`= ${job.node.path} (already there)`);
          continue;
        }
        const started = Date.now();
        await downloadFile(remote, namespace, project, job.node, job.dest, env, progress, options);
        const seconds = Math.max(0.001, (Date.now() - started) / 1000);
        report.transferred++;
        report.bytes += job.node.size ?? 0;
        progress.finish(job.node.path, `✓ ${job.node.path} → ${job.dest} (${formatBytes(job.node.size ?? 0)}, ${formatBytes((job.node.size ?? 0) / seconds)}/s)`);
      } catch (err) {
        failures.push(job.node.path);
        progress.fail(job.node.path, `✗ ${job.node.path}: ${(err as Error).message}`);
      }
    }
  } finally {
    progress.close();
  }
  if (failures.length) {
    throw new Error(`✗ ${failures.length} of ${jobs.length} files failed (${failures.join(', ')}) — re-run the same command to resume`);
  }
  (options.log ?? console.log)(`✓ ${report.transferred} downloaded, ${report.skipped} already there`);
  return report;
}

async function alreadyThere(dest: string, node: RemoteNode): Promise<boolean> {
  const s = await stat(dest).catch(() => null);
  if (!s?.isFile() || s.size !== node.size) return false;
  return (await hashFile(dest)) === node.sha256;
}

export async function hashFile(path: string): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const hash = createHash('sha256');
    await hashRange(fh, hash, readBuffers(MiB), 0, (await fh.stat()).size);
    return hash.digest('hex');
  } finally {
    await fh.close();
  }
}

/** Two reused read buffers (gigabytes make no garbage): one is hashed while the next read fills the other. */
const readBuffers = (size: number): [Buffer, Buffer] => [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)];

/** Feeds `length` bytes of `fh` from `start` to `hash`, each read overlapping the hashing of the bytes before it. */
async function hashRange(fh: FileHandle, hash: Hash, buffers: [Buffer, Buffer], start: number, length: number) {
  const readInto = (i: number, done: number) => fh.read(buffers[i], 0, Math.min(buffers[i].length, length - done), start + done);
  let current = 0;
  let done = 0;
  let reading = length > 0 ? readInto(current, 0) : null;
  while (reading) {
    const { bytesRead } = await reading;
    if (!bytesRead) throw new Error('the file ended early');
    const chunk = buffers[current].subarray(0, bytesRead);
    done += bytesRead;
    current ^= 1;
    reading = done < length ? readInto(current, done) : null;
    hash.update(chunk);
  }
}

/**
 * The sha256 of a file whose chunks arrive in any order: each time the chunks from the first unhashed one on are
 * there, they are read back (from the page cache) and hashed, so hashing overlaps the download instead of
 * following it.
 */
function inOrderHasher(fh: FileHandle, size: number, chunkSize: number, done: Set<number>) {
  const chunks = Math.max(1, Math.ceil(size / chunkSize));
  const hash = createHash('sha256');
  const buffers = readBuffers(Math.min(MiB, Math.max(1, size)));
  let next = 0;
  let running: Promise<void> = Promise.resolve();
  const advance = () => {
    running = running.then(async () => {
      for (; next < chunks && done.has(next); next++) await hashRange(fh, hash, buffers, next * chunkSize, chunkBytes(next, chunkSize, size));
    });
    running.catch(() => undefined); // a failed read surfaces in digest()
    return running;
  };
  return {
    advance,
    /** Waits for the reads in flight (before the file is closed), whatever became of them. */
    settled: () => running.catch(() => undefined),
    async digest() {
      await advance();
      if (next < chunks) throw new Error(`chunk ${next + 1} is missing`);
      return hash.digest('hex');
    },
  };
}

/** Where the bytes come from: a signed URL when the server offers one (no header needed), else the content route. */
async function sourceOf(remote: Remote, namespace: string, project: string, node: RemoteNode): Promise<{ url: string; auth: boolean }> {
  const res = await remote.request(remote.projectUrl(namespace, project, `/nodes/${encodeURIComponent(node.id)}/download`));
  if (res.ok) {
    const body = (await res.json()) as { url?: string };
    if (body.url) return { url: body.url, auth: false };
  } else {
    await res.body?.cancel();
  }
  return { url: remote.projectUrl(namespace, project, `/nodes/${encodeURIComponent(node.id)}/content`), auth: true };
}

async function downloadFile(
  remote: Remote,
  namespace: string,
  project: string,
  node: RemoteNode,
  dest: string,
  env: NodeJS.ProcessEnv,
  progress: Progress,
  options: TransferOptions,
) {
  const size = node.size ?? 0;
  const sha256 = node.sha256 ?? '';
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error('the server sent no sha256 for this file');
  await mkdir(dirname(dest), { recursive: true });
  const stateDir = join(configDir(env), 'downloads');
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const statePath = join(stateDir, `${sha256}.json`);

  const chunkSize = options.chunkSize ?? 8 * MiB;
  // The state is keyed by content, so another run may be fetching the same content elsewhere and writing it: only
  // a state that names this file's own partial copy is resumed (never another run's file), and each write
  // replaces the state whole.
  const partial = `${resolve(dest)}.dreamlake-partial`;
  let state = await readState<DownloadState>(statePath);
  const resumable =
    state?.tmp === partial && state.size === size && state.chunkSize > 0 && Array.isArray(state.done) && (await stat(partial).then((s) => s.isFile(), () => false));
  if (!state || !resumable) state = { tmp: partial, size, chunkSize, done: [] };
  const chunks = Math.max(1, Math.ceil(size / state.chunkSize));
  const done = new Set(state.done);
  const fh = await open(state.tmp, (await stat(state.tmp).catch(() => null)) ? 'r+' : 'w+', 0o600);
  const hasher = inOrderHasher(fh, size, state.chunkSize, done);
  let actual: string;
  // Parts finish concurrently: saves are chained, and each replaces the file whole (temp file, rename).
  let saving: Promise<void> = Promise.resolve();
  const saveState = () =>
    (saving = saving.then(async () => {
      await writeAtomically(statePath, JSON.stringify({ ...state, done: [...done] }));
    }));
  try {
    await fh.truncate(size);
    await saveState();
    const resumed = [...done].reduce((sum, i) => sum + chunkBytes(i, state.chunkSize, size), 0);
    progress.start(node.path, size, 0);
    progress.add(node.path, resumed);
    if (resumed) progress.line(`… ${node.path}: resuming, ${done.size}/${chunks} parts already here`);

    const source = await sourceOf(remote, namespace, project, node);
    const todo = Array.from({ length: chunks }, (_, i) => i).filter((i) => !done.has(i));
    let failure: unknown;
    const worker = async () => {
      for (;;) {
        if (failure) return;
        const i = todo.shift();
        if (i === undefined) return;
        const start = i * state.chunkSize;
        const end = Math.min(size, start + state.chunkSize) - 1;
        let got = 0;
        try {
          if (size > 0) {
            const headers: Record<string, string> = { range: `bytes=${start}-${end}` };
            const res = source.auth
              ? await remote.request(source.url, { headers })
              : await remote.fetchImpl(source.url, { headers }).catch((err: Error) => {
                  throw new RemoteError(`cannot reach ${new URL(source.url).host}: ${err.message}`);
                });
            if (res.status !== 206 && !(res.status === 200 && start === 0 && end === size - 1)) {
              throw res.ok ? new RemoteError(`HTTP ${res.status}: the server ignored the range`) : await errorOf(res);
            }
            if (!res.body) throw new RemoteError('empty answer');
            let position = start;
            // The body comes in chunks of tens of KiB: written 1 MiB at a time (one writev, no copy into a
            // bigger buffer), far fewer writes wait on the disk.
            let pending: Uint8Array[] = [];
            let pendingBytes = 0;
            const flush = async () => {
              await writeAllAt(fh, pending, position - pendingBytes);
              pending = [];
              pendingBytes = 0;
            };
            for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
              if (position + chunk.length > end + 1) throw new RemoteError('the server sent more bytes than asked for');
              pending.push(chunk);
              pendingBytes += chunk.length;
              position += chunk.length;
              if (pendingBytes >= MiB) await flush();
              got += chunk.length;
              progress.add(node.path, chunk.length);
            }
            if (pendingBytes) await flush();
            if (position !== end + 1) throw new RemoteError(`part ${i + 1} ended after ${position - start} of ${end - start + 1} bytes`);
          }
          done.add(i);
          void hasher.advance();
          await saveState();
        } catch (err) {
          progress.undo(node.path, got);
          failure ??= err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.parallel ?? 4, todo.length || 1) }, worker));
    if (failure) throw failure;
    await fh.sync();
    actual = await hasher.digest();
  } finally {
    await hasher.settled();
    await fh.close();
  }
  // Removes the state unless another run fetching this content has written its own there meanwhile.
  const forgetState = async () => {
    if ((await readState<DownloadState>(statePath))?.tmp === partial) await rm(statePath, { force: true });
  };
  if (actual !== sha256) {
    await rm(state.tmp, { force: true });
    await forgetState();
    throw new Error(`the downloaded bytes hash to ${actual}, not ${sha256}: discarded, re-run to fetch again`);
  }
  await rename(state.tmp, dest);
  await forgetState();
}

function chunkBytes(i: number, chunkSize: number, size: number): number {
  return Math.max(0, Math.min(size, (i + 1) * chunkSize) - i * chunkSize);
}

/** Writes `chunks` back to back from `position`, with one writev when the file takes them all at once. */
export async function writeAllAt(fh: FileHandle, chunks: Uint8Array[], position: number) {
  const total = chunks.reduce((sum, c) => sum + c.length, 0);
  let written = (await fh.writev(chunks, position)).bytesWritten;
  if (written === total) return;
  const all = Buffer.concat(chunks); // a short write (a full disk, a signal): the rest from one buffer
  while (written < total) written += (await fh.write(all, written, total - written, position + written)).bytesWritten;
}

export const defaultDownloadName = (node: RemoteNode) => basename(node.path) || node.name;
