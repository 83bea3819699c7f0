// Console uploads over the blob service's multipart protocol (ORIGINAL-CLIENT-PROTOCOL.md §5.4, §6), as the
// original clients do it: SHA-256 of the file computed in the browser, init → parts (signed URLs) → PUT the
// parts, 4 at once → complete → POST /files (bssId) → POST /nodes (the file node at its path). {uploadId, key}
// are kept per content hash in localStorage, so a reload and a re-drop of the same file resume: parts-done
// says which parts the server already has, and only the others are sent. Loaded lazily with the hasher.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { ApiError, api, ok } from './api.js';

const PARALLEL_PARTS = 4;
const URL_BATCH = 32;
const HASH_CHUNK = 4 * 1024 * 1024;
const STATE_PREFIX = 'dreamlake.upload.';

export type UploadPhase = 'hashing' | 'uploading' | 'finishing';

export interface MultipartOptions {
  ns: string;
  project: string;
  /** Destination path in the project ("/folder/file"); missing folders are made. */
  path: string;
  file: File;
  signal: AbortSignal;
  onProgress(loaded: number): void;
  onPhase?(phase: UploadPhase, detail?: string): void;
}

interface SavedUpload {
  uploadId: string;
  key: string;
  partSize: number;
  size: number;
}

function aborted(): DOMException {
  return new DOMException('Cancelled', 'AbortError');
}

/** The full hex SHA-256 of a file, read in chunks (WebCrypto has no streaming digest). */
export async function hashFile(file: Blob, signal?: AbortSignal): Promise<string> {
  const h = sha256.create();
  for (let offset = 0; offset < file.size || offset === 0; offset += HASH_CHUNK) {
    if (signal?.aborted) throw aborted();
    h.update(new Uint8Array(await file.slice(offset, offset + HASH_CHUNK).arrayBuffer()));
    if (file.size === 0) break;
  }
  return bytesToHex(h.digest());
}

function loadState(sha: string): SavedUpload | null {
  try {
    const raw = localStorage.getItem(STATE_PREFIX + sha);
    return raw ? (JSON.parse(raw) as SavedUpload) : null;
  } catch {
    return null;
  }
}

function saveState(sha: string, state: SavedUpload | null) {
  try {
    if (state) localStorage.setItem(STATE_PREFIX + sha, JSON.stringify(state));
    else localStorage.removeItem(STATE_PREFIX + sha);
  } catch {
    // private mode or a full quota: the upload works, it just cannot resume after a reload
  }
}

/** PUT one part's bytes to its signed URL (no Authorization), with upload progress; resolves to its ETag. */
function putPart(url: string, body: Blob, contentType: string, signal: AbortSignal, onProgress: (loaded: number) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(aborted());
    const xhr = new XMLHttpRequest();
    const onAbort = () => xhr.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    xhr.open('PUT', url);
    xhr.setRequestHeader('content-type', contentType);
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onloadend = () => signal.removeEventListener('abort', onAbort);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(body.size);
        resolve((xhr.getResponseHeader('etag') ?? '').replace(/"/g, ''));
        return;
      }
      let message = `HTTP ${xhr.status}`;
      try {
        message = (JSON.parse(xhr.responseText) as { message: string }).message || message;
      } catch {
        // keep the status
      }
      reject(new ApiError(xhr.status, message));
    };
    xhr.onerror = () => reject(new Error('Network error: a part did not reach the server'));
    xhr.onabort = () => reject(aborted());
    xhr.send(body);
  });
}

/**
 * Content this page has staged (completed) or is staging, by SHA-256: identical files (duplicates in a dropped
 * folder, the same file dropped twice) are sent once; the others wait for it and only register it.
 */
const staged = new Set<string>();
const staging = new Map<string, Promise<unknown>>();

/** Uploads `file` to `path` with the multipart protocol; resumes an upload of the same content begun before. */
export async function multipartUpload(o: MultipartOptions): Promise<{ nodeId: string; resumedParts: number; sent: boolean }> {
  const { file, signal } = o;
  const contentType = file.type || 'application/octet-stream';
  o.onPhase?.('hashing');
  const sha = await hashFile(file, signal);
  const hash = sha.slice(0, 16);
  if (signal.aborted) throw aborted();
  o.onPhase?.('uploading');

  const pending = staging.get(sha);
  if (pending) await pending.catch(() => undefined);
  if (signal.aborted) throw aborted();
  if (staged.has(sha)) {
    try {
      const nodeId = await register(o, hash, contentType);
      o.onProgress(file.size);
      return { nodeId, resumedParts: 0, sent: false };
    } catch (err) {
      // The server no longer has it (404): send the bytes again.
      if (!(err instanceof ApiError && err.status === 404)) throw err;
      staged.delete(sha);
    }
  }
  const run = stage(o, sha, hash, contentType);
  staging.set(sha, run);
  try {
    const resumedParts = await run;
    staged.add(sha);
    return { nodeId: await register(o, hash, contentType), resumedParts, sent: true };
  } finally {
    if (staging.get(sha) === run) staging.delete(sha);
  }
}

/** POST /files (the bssId) then POST /nodes: the file node at its path, pointing at the staged content. */
async function register(o: MultipartOptions, hash: string, contentType: string): Promise<string> {
  const { ns, project, file, signal } = o;
  o.onPhase?.('finishing');
  const name = o.path.startsWith('/') ? o.path : `/${o.path}`;
  const base = name.slice(name.lastIndexOf('/') + 1);
  const registered = await ok(api.POST('/files', { body: { name, owner: ns, project, stagingHash: hash, contentType, size: file.size, originalName: base }, signal }));
  const node = await ok(api.POST('/nodes', {
    body: { namespace: ns, project, name, metadata: { bssId: registered.id, hash, size: file.size, contentType } },
    signal,
  }));
  return (node as { id: string }).id;
}

/** init (or resume) → parts → PUTs → complete; answers how many parts were already on the server. */
async function stage(o: MultipartOptions, sha: string, hash: string, contentType: string): Promise<number> {
  const { ns, project, file, signal } = o;
  // Resume what a previous page (or run) left, unless the server no longer has it.
  let state = loadState(sha);
  let done: { partNumber: number; etag: string; size?: number }[] = [];
  if (state && state.size === file.size) {
    const res = await api.GET('/files/upload/multipart/parts-done', { params: { query: { uploadId: state.uploadId, key: state.key } }, signal });
    if (res.response.ok && res.data && !res.data.expired) done = res.data.parts;
    else state = null;
  } else state = null;
  if (!state) {
    const call = api.POST('/files/upload/multipart/init', { body: { owner: ns, project, hash, contentType }, signal });
    const init = await ok(call);
    state = { uploadId: init.uploadId, key: init.key, partSize: init.partSize, size: file.size };
    saveState(sha, state);
    // 200, not 201: the server resumed a live upload of this content (another tab, the CLI): skip what it has.
    if ((await call).response.status === 200) {
      const res = await api.GET('/files/upload/multipart/parts-done', { params: { query: { uploadId: state.uploadId, key: state.key } }, signal });
      if (res.response.ok && res.data && !res.data.expired) done = res.data.parts;
    }
  }
  const ref = { uploadId: state.uploadId, key: state.key };
  const cancel = () => {
    saveState(sha, null);
    // Best effort: the server discards the staged parts (and expires them anyway).
    void api.DELETE('/files/upload/multipart', { body: ref }).catch(() => undefined);
  };

  try {
    const partSize = state.partSize;
    const count = Math.max(1, Math.ceil(file.size / partSize));
    const sizeOf = (n: number) => Math.min(partSize, file.size - (n - 1) * partSize);
    const have = new Map<number, { partNumber: number; etag: string }>();
    for (const p of done) if (p.partNumber <= count && (p.size === undefined || p.size === sizeOf(p.partNumber))) have.set(p.partNumber, p);
    const resumedParts = have.size;
    const missing: number[] = [];
    for (let n = 1; n <= count; n++) if (!have.has(n)) missing.push(n);

    // Progress: finished parts plus what the parts in flight have sent.
    const inFlight = new Map<number, number>();
    let finished = [...have.keys()].reduce((s, n) => s + sizeOf(n), 0);
    const report = () => o.onProgress(finished + [...inFlight.values()].reduce((s, v) => s + v, 0));
    report();

    let failure: unknown = null;
    for (let i = 0; i < missing.length && !failure; i += URL_BATCH) {
      const batch = missing.slice(i, i + URL_BATCH);
      const { parts: urls } = await ok(api.POST('/files/upload/multipart/parts', { body: { ...ref, partNumbers: batch }, signal }));
      const queue = [...batch];
      const worker = async () => {
        // A failed part stops new ones from starting; those in flight finish (their progress is kept).
        while (queue.length && !failure) {
          const n = queue.shift()!;
          const start = (n - 1) * partSize;
          const url = urls[String(n)];
          if (!url) throw new Error(`The server gave no URL for part ${n}`);
          try {
            const etag = await putPart(new URL(url, location.href).toString(), file.slice(start, start + sizeOf(n)), contentType, signal, (loaded) => {
              inFlight.set(n, loaded);
              report();
            });
            inFlight.delete(n);
            finished += sizeOf(n);
            have.set(n, { partNumber: n, etag });
            report();
          } catch (err) {
            inFlight.delete(n);
            failure ??= err;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(PARALLEL_PARTS, batch.length) }, worker));
    }
    if (failure) {
      if (failure instanceof DOMException && failure.name === 'AbortError') throw failure;
      const message = failure instanceof Error ? failure.message : String(failure);
      throw new ApiError(failure instanceof ApiError ? failure.status : 0, `${message} (upload paused: drop the file again to resume)`);
    }

    o.onPhase?.('finishing');
    const parts = [...have.values()].sort((a, b) => a.partNumber - b.partNumber);
    await ok(api.POST('/files/upload/multipart/complete', { body: { ...ref, parts, size: file.size }, signal }));
    saveState(sha, null);
    return resumedParts;
  } catch (err) {
    if ((err instanceof DOMException && err.name === 'AbortError') || signal.aborted) {
      cancel();
      throw aborted();
    }
    throw err;
  }
}
