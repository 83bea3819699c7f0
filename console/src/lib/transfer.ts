// The adapter between the console and file bytes: how media gets a URL a <video> can stream, how downloads
// and uploads travel. Media and downloads use signed download links (GET …/nodes/:id/download → {url,
// expiresAt}), which carry their own short-lived authority, so <video> streams and seeks with range requests;
// a server without that route gets the bytes fetched with the Bearer header into a blob URL instead.
import { getCredential } from './auth.js';
import { ApiError, lakeUrl, projectPath } from './api.js';

let signedUrls: boolean | undefined;

function bearer(): Record<string, string> {
  const token = getCredential('lake');
  return token ? { authorization: `Bearer ${token}` } : {};
}

export function contentUrl(ns: string, project: string, id: string): string {
  return lakeUrl(`${projectPath(ns, project)}/nodes/${encodeURIComponent(id)}/content`);
}

async function signedUrl(ns: string, project: string, id: string): Promise<string | null> {
  if (signedUrls === false) return null;
  const res = await fetch(lakeUrl(`${projectPath(ns, project)}/nodes/${encodeURIComponent(id)}/download`), { headers: bearer() });
  if (res.ok) {
    signedUrls = true;
    const body = (await res.json()) as { url: string };
    return new URL(body.url, location.href).toString();
  }
  // A route the server does not have: an older server, remember it.
  if (res.status === 404) {
    const body = (await res.json().catch(() => null)) as { message?: string } | null;
    if (body?.message?.startsWith('Route ')) signedUrls = false;
  }
  return null;
}

export interface MediaSource {
  url: string;
  /** Blob URLs must be revoked when the preview goes away. */
  release(): void;
  via: 'signed' | 'blob';
}

/** A URL that <video>, <audio> and <img> can load on their own (with range requests for the first two). */
export async function mediaSource(ns: string, project: string, id: string): Promise<MediaSource> {
  const signed = await signedUrl(ns, project, id);
  if (signed) return { url: signed, release: () => undefined, via: 'signed' };
  const res = await fetch(contentUrl(ns, project, id), { headers: bearer() });
  if (!res.ok) throw new ApiError(res.status, `Could not load the file (HTTP ${res.status})`);
  const url = URL.createObjectURL(await res.blob());
  return { url, release: () => URL.revokeObjectURL(url), via: 'blob' };
}

/** The first `limit` bytes of a file, as text (for text, JSON and CSV previews). */
export async function readHead(ns: string, project: string, id: string, limit = 1024 * 1024): Promise<{ text: string; truncated: boolean }> {
  const res = await fetch(contentUrl(ns, project, id), { headers: { ...bearer(), range: `bytes=0-${limit - 1}` } });
  if (res.status === 416) return { text: '', truncated: false };
  if (!res.ok) throw new ApiError(res.status, `Could not load the file (HTTP ${res.status})`);
  const total = Number(/\/(\d+)$/.exec(res.headers.get('content-range') ?? '')?.[1] ?? res.headers.get('content-length') ?? 0);
  const bytes = new Uint8Array(await res.arrayBuffer()).slice(0, limit);
  return { text: new TextDecoder().decode(bytes), truncated: total > limit };
}

/** Saves a file to the user's downloads. */
export async function download(ns: string, project: string, id: string, name: string) {
  const signed = await signedUrl(ns, project, id);
  const a = document.createElement('a');
  a.download = name;
  if (signed) {
    a.href = signed;
    a.click();
    return;
  }
  const res = await fetch(contentUrl(ns, project, id), { headers: bearer() });
  if (!res.ok) throw new ApiError(res.status, `Download failed (HTTP ${res.status})`);
  const url = URL.createObjectURL(await res.blob());
  a.href = url;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export interface UploadHandle {
  promise: Promise<void>;
  cancel(): void;
}

export type { UploadPhase } from './multipart.js';

/**
 * Uploads one file to `path` (a project path, missing folders are created) with the blob service's multipart
 * protocol (parallel parts, resumable: see multipart.ts, loaded with its hasher on the first upload);
 * progress in bytes sent.
 */
export function uploadFile(
  ns: string,
  project: string,
  path: string,
  file: File,
  onProgress: (loaded: number) => void,
  onPhase?: (phase: import('./multipart.js').UploadPhase) => void,
): UploadHandle {
  const controller = new AbortController();
  const promise = import('./multipart.js').then(async ({ multipartUpload }) => {
    await multipartUpload({ ns, project, path, file, signal: controller.signal, onProgress, onPhase });
  });
  return { promise, cancel: () => controller.abort() };
}
