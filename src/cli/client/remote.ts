import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { httpFetch } from './http-fetch.js';
import { writeAtomically } from './state-file.js';

/** What `dreamlake login` keeps: the server and the Bearer token to use with it. */
export interface Credentials {
  server: string;
  token: string;
}

export type Fetch = typeof fetch;

/** `$XDG_CONFIG_HOME/dreamlake` (default `~/.config/dreamlake`): credentials and resumable-transfer state. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'dreamlake');
}

export async function saveCredentials(credentials: Credentials, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const dir = configDir(env);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, 'credentials.json');
  await writeAtomically(path, `${JSON.stringify(credentials, null, 2)}\n`);
  return path;
}

export async function loadCredentials(env: NodeJS.ProcessEnv = process.env): Promise<Credentials> {
  const path = join(configDir(env), 'credentials.json');
  const text = await readFile(path, 'utf8').catch(() => null);
  if (text === null) throw new Error(`Not logged in: run \`dreamlake login --server URL --token TOKEN\` first (no ${path}).`);
  const parsed = JSON.parse(text) as Partial<Credentials>;
  if (!parsed.server || !parsed.token) throw new Error(`${path} is incomplete: run \`dreamlake login\` again.`);
  return { server: parsed.server, token: parsed.token };
}

/** A DreamLake error answer (`{error, message}`) or a transport failure, as one readable message. */
export class RemoteError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** `ns/project[/path]` → its parts; the path is `/` for the project's root. */
export function parseTarget(target: string): { namespace: string; project: string; path: string } {
  const [namespace, project, ...rest] = target.replace(/^\/+/, '').split('/');
  if (!namespace || !project) throw new Error(`"${target}" is not of the form namespace/project[/path].`);
  return { namespace, project, path: `/${rest.filter(Boolean).join('/')}` };
}

export const encodePath = (path: string) =>
  path
    .split('/')
    .filter(Boolean)
    .map((s) => encodeURIComponent(s))
    .join('/');

/** The server's routes of one project, with the Bearer header on each request. */
export class Remote {
  readonly base: string;
  readonly fetchImpl: Fetch;
  /** For part PUTs: node:http unless a fetch was given (tests give one to cut connections). */
  readonly bytesFetch: Fetch;

  constructor(
    readonly credentials: Credentials,
    fetchImpl?: Fetch,
  ) {
    this.base = credentials.server.replace(/\/+$/, '');
    this.fetchImpl = fetchImpl ?? fetch;
    this.bytesFetch = fetchImpl ?? httpFetch;
  }

  projectUrl(namespace: string, project: string, rest = ''): string {
    return `${this.base}/namespaces/${encodeURIComponent(namespace)}/projects/${encodeURIComponent(project)}${rest}`;
  }

  async request(url: string, init: RequestInit & { duplex?: 'half' } = {}): Promise<Response> {
    let res: Response;
    try {
      res = await this.fetchImpl(url, { ...init, headers: { authorization: `Bearer ${this.credentials.token}`, ...(init.headers as Record<string, string>) } });
    } catch (err) {
      throw new RemoteError(`cannot reach ${this.base}: ${(err as Error).message}`);
    }
    return res;
  }

  async json<T>(url: string, init: RequestInit = {}): Promise<T> {
    const res = await this.request(url, init);
    if (!res.ok) throw await errorOf(res);
    return (await res.json()) as T;
  }
}

export async function errorOf(res: Response): Promise<RemoteError> {
  const text = await res.text().catch(() => '');
  let message = text.slice(0, 300) || res.statusText;
  let code: string | undefined;
  try {
    const body = JSON.parse(text) as { error?: string; message?: string };
    if (body.message) message = body.message;
    code = body.error;
  } catch {
    // not JSON: keep the text
  }
  return new RemoteError(`HTTP ${res.status}: ${message}`, res.status, code);
}

/** A node as the server answers it (the fields the client reads). */
export interface RemoteNode {
  id: string;
  name: string;
  path: string;
  kind: string;
  leaf: boolean;
  size: number | null;
  sha256: string | null;
  contentType: string | null;
}

export interface NodePage {
  nodes: RemoteNode[];
  page: number;
  totalPages: number;
}

/** The node at `path` (null when nothing is there), or a stand-in for the project's root when `path` is `/`. */
export async function lookup(remote: Remote, namespace: string, project: string, path: string): Promise<RemoteNode | null> {
  if (path === '/') return { id: '', name: project, path: '/', kind: 'project', leaf: false, size: null, sha256: null, contentType: null };
  const res = await remote.request(remote.projectUrl(namespace, project, `/nodes/lookup?${new URLSearchParams({ path })}`));
  if (res.status === 404) {
    const err = await errorOf(res);
    // A missing project is an error; a missing path is "nothing there".
    if (/project|namespace/i.test(err.message) && !/node|path/i.test(err.message)) throw err;
    return null;
  }
  if (!res.ok) throw await errorOf(res);
  return (await res.json()) as RemoteNode;
}

/** Every page of a node list. */
export async function* allPages(remote: Remote, url: (page: number) => string): AsyncIterable<RemoteNode> {
  for (let page = 1; ; page++) {
    const body = await remote.json<NodePage>(url(page));
    yield* body.nodes;
    if (page >= body.totalPages || !body.nodes.length) return;
  }
}

/** The files below a container (the whole project for `/`), in path order. */
export function filesBelow(remote: Remote, namespace: string, project: string, container: RemoteNode): AsyncIterable<RemoteNode> {
  if (container.kind === 'project') return projectFiles(remote, namespace, project);
  return allPages(remote, (page) =>
    remote.projectUrl(namespace, project, `/nodes/${encodeURIComponent(container.id)}/descendants?leavesOnly=true&pageSize=200&page=${page}`),
  );
}

async function* projectFiles(remote: Remote, namespace: string, project: string): AsyncIterable<RemoteNode> {
  for await (const top of allPages(remote, (page) => remote.projectUrl(namespace, project, `/nodes?pageSize=200&page=${page}`))) {
    if (top.leaf) yield top;
    else yield* filesBelow(remote, namespace, project, top);
  }
}
