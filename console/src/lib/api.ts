import { createClient, type Middleware } from '../../../client/index.js';
import { getCredential, setCredential, type Credential } from './auth.js';
import { getMounts, prefix } from './base.js';

/** A failed call, with the server's status and message (DreamLake/Dreamscript JSON or Dreamspace plain text). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

/** The server could not be reached: the request never got an answer (server down, offline, connection reset). */
export class NetworkError extends Error {
  constructor(cause: unknown) {
    super('Could not reach the server: it may be down or restarting, or this computer is offline. Try again in a moment.', { cause });
  }
}

const apiOf = new WeakMap<Request, Credential>();

/** Why the console forgot a credential (shown on the sign-in form). */
export let forgotten: { kind: Credential; message: string } | null = null;

/** The generated paths say /dreamscript/… and /dreamspace/… (default mounts): move them to the configured ones. */
const mountsAndCredentials: Middleware = {
  async onRequest({ request }) {
    const url = new URL(request.url);
    const mounts = getMounts();
    let api: 'lake' | 'script' | 'space' = 'lake';
    let rest = url.pathname;
    if (rest.startsWith('/dreamscript/')) {
      api = 'script';
      rest = rest.slice('/dreamscript'.length);
    } else if (rest.startsWith('/dreamspace/')) {
      api = 'space';
      rest = rest.slice('/dreamspace'.length);
    }
    url.pathname = prefix(mounts[api]) + rest;
    const headers = new Headers(request.headers);
    const credential = getCredential(api);
    if (credential) {
      if (api === 'lake') headers.set('authorization', `Bearer ${credential}`);
      else if (api === 'script') headers.set('x-api-key', credential);
      else headers.set('x-api-key', credential);
    }
    const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.arrayBuffer();
    const rewritten = new Request(url, { method: request.method, headers, body, signal: request.signal });
    apiOf.set(rewritten, api);
    return rewritten;
  },
  onResponse({ request, response }) {
    // A credential the server no longer accepts (expired token, revoked key): forget it and ask again.
    // Dreamspace answers a bad token with 403 (as documented); the others with 401.
    const api = apiOf.get(request);
    if (!api || !getCredential(api)) return;
    if ((api === 'space' && response.status === 403) || (api !== 'space' && response.status === 401)) {
      forgotten = { kind: api, message: `The server refused the ${api === 'lake' ? 'token' : api === 'script' ? 'API key' : 'API token'} (HTTP ${response.status}); enter a new one.` };
      setCredential(api, null);
    }
  },
  // fetch() rejects with a bare TypeError ("Failed to fetch") when no answer comes: say so readably. An abort
  // (a DOMException) stays what it is, for callers that stop a request on purpose.
  onError({ error }) {
    if (error instanceof TypeError) return new NetworkError(error);
  },
};

export const api = createClient({ baseUrl: location.origin });
api.use(mountsAndCredentials);

interface Result<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** Unwraps an openapi-fetch result: the data, or an ApiError with the server's message. */
export async function ok<T>(call: Promise<Result<T>>): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok) return data as T;
  throw toApiError(response.status, error);
}

export function toApiError(status: number, error: unknown): ApiError {
  if (error && typeof error === 'object' && 'message' in error) {
    const e = error as { message: string; error?: string; reason?: string };
    return new ApiError(status, e.message || e.reason || `HTTP ${status}`, e.error, error);
  }
  if (typeof error === 'string' && error) return new ApiError(status, error);
  return new ApiError(status, `HTTP ${status}`);
}

/** A URL on the DreamLake mount, for the routes called outside the typed client (uploads, media). */
export function lakeUrl(path: string): string {
  return `${location.origin}${prefix(getMounts().lake)}${path}`;
}

export function projectPath(ns: string, project: string): string {
  return `/namespaces/${encodeURIComponent(ns)}/projects/${encodeURIComponent(project)}`;
}
