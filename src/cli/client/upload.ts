import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { hashFile, type TransferOptions, type TransferReport } from './download.js';
import { limiter, multipartUploads } from './multipart.js';
import { Progress, formatBytes } from './progress.js';
import { encodePath, errorOf, loadCredentials, lookup, parseTarget, Remote, RemoteError } from './remote.js';

/** Local files below `dir` (regular files only; symbolic links are not followed), sorted by path. */
async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out.sort();
}

/** Files up to this size go in one streamed PUT (one request instead of six); bigger ones in signed parts. */
export const SMALL_FILE = 1024 * 1024;

/**
 * `dreamlake upload <file or folder> ns/project[/path] [--episode E]`: a folder goes below the destination under
 * its own name (like `cp -r`), every level of it. Each file is hashed first: one whose SHA-256 is already at its
 * path is skipped, so re-running the same command after a failure or Ctrl-C sends only what is missing. A file
 * over 1 MiB goes through the multipart protocol (multipart.ts: signed part URLs, resumable part by part); a
 * smaller one in one streamed PUT with its sha256 announced (`x-checksum-sha256`). Big files of the same
 * content are sent once per run; the others only get their node. Either way the server checks
 * the hash, so nothing that arrived damaged is stored. At most 4 requests carry bytes at once.
 */
export async function upload(localPath: string, target: string, options: TransferOptions & { episode?: string } = {}): Promise<TransferReport> {
  const env = options.env ?? process.env;
  const remote = new Remote(await loadCredentials(env), options.fetch);
  const { namespace, project, path } = parseTarget(target);
  const s = await stat(localPath).catch(() => null);
  if (!s) throw new Error(`✗ ${localPath} does not exist`);
  const base = path === '/' ? '' : path;
  const files = s.isDirectory()
    ? (await walk(localPath)).map((f) => ({ local: f, remote: `${base}/${basename(localPath.replace(/[\\/]+$/, '')) || 'upload'}/${relative(localPath, f).split(sep).join('/')}` }))
    : [{ local: localPath, remote: `${base}/${basename(localPath)}` }];

  // Inside an episode, paths are below the episode's node wherever it sits in the tree.
  let scope = '';
  if (options.episode) {
    const episode = await remote.json<{ path: string }>(remote.projectUrl(namespace, project, `/episodes/${encodeURIComponent(options.episode)}`)).catch((err: Error) => {
      throw new Error(`✗ episode ${options.episode} in ${namespace}/${project}: ${err.message}`);
    });
    scope = episode.path.replace(/\/+$/, '');
  }

  const progress = new Progress('upload', options.out, options.log);
  const report: TransferReport = { transferred: 0, skipped: 0, bytes: 0 };
  const failures: string[] = [];
  const queue = [...files];
  const slot = limiter(options.parallel ?? 4);
  const uploadMultipart = multipartUploads(remote, env, progress, slot);
  for (const f of files) progress.plan((await stat(f.local)).size);
  const worker = async () => {
    for (;;) {
      const next = queue.shift();
      if (!next) return;
      const file = next;
      try {
        const size = (await stat(file.local)).size;
        const sha256 = await hashFile(file.local);
        const there = await lookup(remote, namespace, project, `${scope}${file.remote}`).catch(() => null);
        if (there?.leaf && there.sha256 === sha256) {
          progress.skip(size);
          report.skipped++;
          progress.line(`= ${file.remote} (already there)`);
          continue;
        }
        const started = Date.now();
        if (size > SMALL_FILE) {
          const { resumed, sameAs } = await uploadMultipart({ local: file.local, name: file.remote, size, sha256, namespace, project, episode: options.episode });
          if (sameAs) {
            progress.skip(size);
            report.transferred++;
            progress.line(`✓ ${file.local} → ${file.remote} (${formatBytes(size)}, same content as ${sameAs}: sent once)`);
            continue;
          }
          const seconds = Math.max(0.001, (Date.now() - started) / 1000);
          report.transferred++;
          report.bytes += size;
          progress.finish(file.remote, `✓ ${file.local} → ${file.remote} (${formatBytes(size)}, ${formatBytes((size - resumed) / seconds)}/s)`);
          continue;
        }
        progress.start(file.remote, size);
        let sent = 0;
        async function* body() {
          for await (const chunk of createReadStream(file.local, { highWaterMark: 1024 * 1024 })) {
            sent += (chunk as Buffer).length;
            progress.add(file.remote, (chunk as Buffer).length);
            yield chunk as Buffer;
          }
        }
        const query = options.episode ? `?${new URLSearchParams({ episode: options.episode })}` : '';
        const res = await slot(() => remote
          .request(remote.projectUrl(namespace, project, `/files/${encodePath(file.remote)}${query}`), {
            method: 'PUT',
            headers: { 'content-type': 'application/octet-stream', 'content-length': String(size), 'x-checksum-sha256': sha256 },
            body: body() as unknown as BodyInit,
            duplex: 'half',
          })
          .catch((err: unknown) => {
            progress.undo(file.remote, sent);
            throw err;
          }));
        if (!res.ok) {
          progress.undo(file.remote, sent);
          throw await errorOf(res);
        }
        await res.body?.cancel();
        const seconds = Math.max(0.001, (Date.now() - started) / 1000);
        report.transferred++;
        report.bytes += size;
        progress.finish(file.remote, `✓ ${file.local} → ${file.remote} (${formatBytes(size)}, ${formatBytes(size / seconds)}/s)`);
      } catch (err) {
        failures.push(file.local);
        const message = err instanceof RemoteError || err instanceof Error ? err.message : String(err);
        progress.fail(file.remote, `✗ ${file.local}: ${message}`);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(options.parallel ?? 4, files.length || 1) }, worker));
  } finally {
    progress.close();
  }
  if (failures.length) {
    throw new Error(`✗ ${failures.length} of ${files.length} files failed (${failures.join(', ')}) — re-run the same command to resume`);
  }
  (options.log ?? console.log)(`✓ ${report.transferred} uploaded, ${report.skipped} already there`);
  return report;
}
