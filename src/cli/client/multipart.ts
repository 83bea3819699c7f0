import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Progress } from './progress.js';
import { configDir, errorOf, Remote, RemoteError } from './remote.js';

/** The part size when the server does not suggest one (the original clients' fixed 10 MiB). */
export const DEFAULT_PART_SIZE = 10 * 1024 * 1024;

/** A part the server has: as parts-done lists it (extra fields are echoed back to complete). */
interface DonePart {
  partNumber: number;
  etag: string;
  [extra: string]: unknown;
}

/** What a partly uploaded file has: kept in the config dir, keyed by the content's sha256. */
interface UploadState {
  uploadId: string;
  key: string;
  size: number;
  partSize: number;
  totalParts: number;
  completedParts: DonePart[];
}

/** At most `n` byte-carrying requests at once, over every file of a run. */
export function limiter(n: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

export interface MultipartFile {
  local: string;
  /** Progress label and the node's name (relative to the episode when there is one). */
  name: string;
  size: number;
  sha256: string;
  namespace: string;
  project: string;
  episode?: string;
}

/**
 * One file through the blob service (ORIGINAL-CLIENT-PROTOCOL §5.4, §6): init → parts (signed URLs) → PUT the
 * parts (through `slot`, 4 at a time) → complete → POST /files → POST /nodes. The upload's IDs and its finished
 * parts are kept in `<config>/uploads/<sha256>.json`; a re-run asks the server which parts it has
 * (`parts-done`) and sends only the others. A failed part stops the file: parts in flight finish, no new one
 * starts, the state stays.
 */
export async function uploadMultipart(
  remote: Remote,
  file: MultipartFile,
  env: NodeJS.ProcessEnv,
  progress: Progress,
  slot: ReturnType<typeof limiter>,
): Promise<{ nodeId: string; resumed: number }> {
  const { size, sha256 } = file;
  const hash = sha256.slice(0, 16);
  const contentType = 'application/octet-stream'; // the server names the type from the extension
  const stateDir = join(configDir(env), 'uploads');
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const statePath = join(stateDir, `${sha256}.json`);
  const post = <T>(path: string, body: unknown) =>
    remote.json<T>(`${remote.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const partsDone = async (uploadId: string, key: string): Promise<DonePart[] | null> => {
    const res = await remote.request(`${remote.base}/files/upload/multipart/parts-done?${new URLSearchParams({ uploadId, key })}`);
    if (!res.ok) {
      await res.body?.cancel();
      return null; // unknown or aborted: start over
    }
    const body = (await res.json()) as { parts?: DonePart[]; expired?: boolean };
    return body.expired ? null : (body.parts ?? []);
  };

  // 1. Resume what the state file names, else init (which also resumes the server's live upload of this content).
  let state = await readFile(statePath, 'utf8').then(
    (t) => {
      try {
        return JSON.parse(t) as UploadState;
      } catch {
        return null; // cut short by a crash
      }
    },
    () => null,
  );
  let done = state && state.size === size ? await partsDone(state.uploadId, state.key) : null;
  if (!state || !done) {
    const init = await post<{ uploadId: string; key: string; partSize?: number }>('/files/upload/multipart/init', {
      owner: file.namespace,
      project: file.project,
      hash,
      contentType,
    });
    const partSize = init.partSize && init.partSize > 0 ? init.partSize : DEFAULT_PART_SIZE;
    state = { uploadId: init.uploadId, key: init.key, size, partSize, totalParts: Math.max(1, Math.ceil(size / partSize)), completedParts: [] };
    done = (await partsDone(init.uploadId, init.key)) ?? [];
  }
  const current = state;
  const bytesOf = (n: number) => Math.max(0, Math.min(size, n * current.partSize) - (n - 1) * current.partSize);
  // Only parts of this layout count (a part of another size, from a different part size, is sent again).
  const have = new Map<number, DonePart>();
  for (const p of done) {
    if (p.partNumber <= current.totalParts && (typeof p.size !== 'number' || p.size === bytesOf(p.partNumber))) have.set(p.partNumber, p);
  }
  let saving: Promise<void> = Promise.resolve();
  const saveState = () =>
    (saving = saving.then(async () => {
      const tmp = `${statePath}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify({ ...current, completedParts: [...have.values()] }), { mode: 0o600 });
      await rename(tmp, statePath);
    }));
  await saveState();

  const resumedBytes = [...have.keys()].reduce((sum, n) => sum + bytesOf(n), 0);
  progress.start(file.name, size, 0);
  progress.add(file.name, resumedBytes);
  if (have.size) progress.line(`… ${file.name}: resuming, ${have.size}/${current.totalParts} parts already there`);

  // 2. Signed URLs for the missing parts, and their PUTs.
  const todo = Array.from({ length: current.totalParts }, (_, i) => i + 1).filter((n) => !have.has(n));
  if (todo.length) {
    const { parts: urls } = await post<{ parts: Record<string, string> }>('/files/upload/multipart/parts', {
      uploadId: current.uploadId,
      key: current.key,
      partNumbers: todo,
    });
    let failure: unknown;
    await Promise.all(
      todo.map((n) =>
        slot(async () => {
          if (failure) return; // a part failed: no new one starts
          const url = urls[String(n)];
          let sent = 0;
          try {
            if (!url) throw new RemoteError(`the server sent no URL for part ${n}`);
            const start = (n - 1) * current.partSize;
            const length = bytesOf(n);
            async function* body() {
              if (!length) return;
              for await (const chunk of createReadStream(file.local, { start, end: start + length - 1, highWaterMark: 1024 * 1024 })) {
                sent += (chunk as Buffer).length;
                progress.add(file.name, (chunk as Buffer).length);
                yield chunk as Buffer;
              }
            }
            // No Authorization: the URL is signed (and may point at another host, e.g. S3).
            const res = await remote
              .bytesFetch(url, {
                method: 'PUT',
                headers: { 'content-type': contentType, 'content-length': String(length) },
                body: body() as unknown as BodyInit,
                duplex: 'half',
              } as RequestInit)
              .catch((err: Error) => {
                throw new RemoteError(`part ${n} PUT failed: ${err.message}`);
              });
            if (!res.ok) {
              const err = await errorOf(res);
              throw new RemoteError(`part ${n} PUT failed (${err.message})`, err.status, err.code);
            }
            await res.body?.cancel();
            have.set(n, { partNumber: n, etag: (res.headers.get('etag') ?? '').replace(/"/g, '') });
            await saveState();
          } catch (err) {
            progress.undo(file.name, sent);
            failure ??= err;
          }
        }),
      ),
    );
    await saving;
    if (failure) throw new RemoteError(`${(failure as Error).message} — upload paused, re-run to resume`);
  }

  // 3. Assemble (the server checks the hash and size), register, and make the node.
  await post('/files/upload/multipart/complete', {
    uploadId: current.uploadId,
    key: current.key,
    parts: [...have.values()].sort((a, b) => a.partNumber - b.partNumber),
    size,
  });
  const registered = await post<{ id: string }>('/files', {
    name: file.name,
    owner: file.namespace,
    project: file.project,
    stagingHash: hash,
    contentType,
    size,
    originalName: file.name.split('/').pop(),
  });
  await rm(statePath, { force: true });
  const node = await post<{ id: string }>('/nodes', {
    namespace: file.namespace,
    project: file.project,
    name: file.name,
    ...(file.episode ? { episode: file.episode } : {}),
    metadata: { bssId: registered.id, hash, size, contentType },
  });
  return { nodeId: node.id, resumed: resumedBytes };
}
