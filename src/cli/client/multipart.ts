import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Progress } from './progress.js';
import { configDir, errorOf, Remote, RemoteError } from './remote.js';
import { readState, writeAtomically } from './state-file.js';

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

/** Where a content's partly sent upload is recorded: `<config>/uploads/<sha256>.json`. */
async function statePathOf(env: NodeJS.ProcessEnv, sha256: string): Promise<string> {
  const stateDir = join(configDir(env), 'uploads');
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  return join(stateDir, `${sha256}.json`);
}

const validState = (s: UploadState | null, size: number): s is UploadState =>
  s !== null && s.size === size && typeof s.uploadId === 'string' && typeof s.key === 'string' && s.partSize > 0 && s.totalParts > 0;

/**
 * The multipart uploads of one run (ORIGINAL-CLIENT-PROTOCOL §5.4, §6). Files of the same content send their
 * bytes once: the first one uploads them, the others wait for it and then only register their node (`POST
 * /files` finds the completed upload by its hash). One sender per content also means one writer of its state
 * file and of the server's staged upload, which `init` shares among all uploads of that hash by this user.
 */
export function multipartUploads(remote: Remote, env: NodeJS.ProcessEnv, progress: Progress, slot: ReturnType<typeof limiter>) {
  const sending = new Map<string, { name: string; resumed: Promise<number> }>();
  return async (file: MultipartFile): Promise<{ nodeId: string; resumed: number; sameAs?: string }> => {
    const first = sending.get(file.sha256);
    if (first) {
      await first.resumed.catch((err: Error) => {
        throw new RemoteError(`same content as ${first.name}, whose upload failed (${err.message})`);
      });
      return { nodeId: await registerNode(remote, file), resumed: 0, sameAs: first.name };
    }
    const resumed = sendContent(remote, file, env, progress, slot);
    sending.set(file.sha256, { name: file.name, resumed });
    const resumedBytes = await resumed;
    return { nodeId: await registerNode(remote, file), resumed: resumedBytes };
  };
}

const postJson = <T>(remote: Remote, path: string, body: unknown) =>
  remote.json<T>(`${remote.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

const CONTENT_TYPE = 'application/octet-stream'; // the server names the type from the extension

/**
 * One file's bytes through the blob service: init → parts (signed URLs) → PUT the parts (through `slot`, 4 at
 * a time) → complete. The upload's IDs and its finished parts are kept in `<config>/uploads/<sha256>.json`; a
 * re-run asks the server which parts it has (`parts-done`) and sends only the others. A failed part stops the
 * file: parts in flight finish, no new one starts, the state stays. Answers the bytes a resumed upload had.
 */
async function sendContent(remote: Remote, file: MultipartFile, env: NodeJS.ProcessEnv, progress: Progress, slot: ReturnType<typeof limiter>): Promise<number> {
  const { size, sha256 } = file;
  const hash = sha256.slice(0, 16);
  const contentType = CONTENT_TYPE;
  const statePath = await statePathOf(env, sha256);
  const post = <T>(path: string, body: unknown) => postJson<T>(remote, path, body);
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
  // Another run may be sending the same content and writing this file: each write replaces it whole.
  let state = await readState<UploadState>(statePath);
  let done = validState(state, size) ? await partsDone(state.uploadId, state.key) : null;
  if (!validState(state, size) || !done) {
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
      await writeAtomically(statePath, JSON.stringify({ ...current, completedParts: [...have.values()] }));
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

  // 3. Assemble (the server checks the hash and size): the staged upload is then done with, and so is its state.
  await post('/files/upload/multipart/complete', {
    uploadId: current.uploadId,
    key: current.key,
    parts: [...have.values()].sort((a, b) => a.partNumber - b.partNumber),
    size,
  });
  await rm(statePath, { force: true });
  return resumedBytes;
}

/** Registers the uploaded content (found by uploader and hash) under the file's name, and makes its node. */
async function registerNode(remote: Remote, file: MultipartFile): Promise<string> {
  const { size } = file;
  const hash = file.sha256.slice(0, 16);
  const contentType = CONTENT_TYPE;
  const registered = await postJson<{ id: string }>(remote, '/files', {
    name: file.name,
    owner: file.namespace,
    project: file.project,
    stagingHash: hash,
    contentType,
    size,
    originalName: file.name.split('/').pop(),
  });
  const node = await postJson<{ id: string }>(remote, '/nodes', {
    namespace: file.namespace,
    project: file.project,
    name: file.name,
    ...(file.episode ? { episode: file.episode } : {}),
    metadata: { bssId: registered.id, hash, size, contentType },
  });
  return node.id;
}
