import { createHash } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import type { TestApp } from './app.js';

// The original DreamLake CLI, replayed: each method sends exactly the requests that
// ORIGINAL-CLIENT-PROTOCOL.md §5–§6 records for one command, in that order and with those bodies, and reads
// only the answer fields the protocol says the CLI reads (through `need`, which fails the test when a field
// is missing or has the wrong type). The CLI is not installed here; this is its recorded wire behaviour.

export const PART_SIZE = 10 * 1024 * 1024; // fixed 10 MiB parts (§6)

export interface CliFile {
  name: string;
  bytes: Buffer;
}

/** The first 16 hex digits of the SHA-256: the CLI's `hash`, `stagingHash` and `metadata.hash` (§6). */
export const hash16 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex').slice(0, 16);

/** The kind the CLI sends for a file name (§4). */
export function kindOf(name: string): string {
  const ext = name.slice(name.lastIndexOf('.') + 1).toLowerCase();
  const table: Record<string, string> = {
    mp4: 'video', mkv: 'video', mov: 'video', webm: 'video',
    wav: 'audio', mp3: 'audio', aac: 'audio', opus: 'audio', flac: 'audio',
    jpg: 'image', jpeg: 'image', png: 'image', gif: 'image', webp: 'image', bmp: 'image', tiff: 'image', tif: 'image',
    jsonl: 'label-track', vtt: 'text-track', srt: 'text-track', parquet: 'parquet', csv: 'csv', npy: 'npy', npz: 'npy',
    pkl: 'pickle', pickle: 'pickle', txt: 'text', md: 'text', log: 'text', json: 'json',
  };
  return name.includes('.') ? (table[ext] ?? 'file') : 'file';
}

/** The MIME type the CLI sends (§4). */
export function mimeOf(name: string): string {
  const ext = name.slice(name.lastIndexOf('.') + 1).toLowerCase();
  const table: Record<string, string> = {
    mp4: 'video/mp4', mkv: 'video/x-matroska', mov: 'video/quicktime', webm: 'video/webm', wav: 'audio/wav',
    mp3: 'audio/mpeg', png: 'image/png', jpg: 'image/jpeg', vtt: 'text/vtt', srt: 'text/plain', txt: 'text/plain',
    log: 'text/plain', jsonl: 'application/x-jsonlines', parquet: 'application/vnd.apache.parquet', csv: 'text/csv',
    md: 'text/markdown', json: 'application/json',
  };
  return table[ext] ?? 'application/octet-stream';
}

export class CliError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

type Json = Record<string, unknown>;

/** Reads a field the CLI reads; fails (as the CLI would crash or misprint) when it is absent or mistyped. */
export function need<T>(body: unknown, field: string, type: 'string' | 'number' | 'array' | 'object' | 'boolean'): T {
  const value = (body as Json | null)?.[field];
  const ok = type === 'array' ? Array.isArray(value) : type === 'object' ? typeof value === 'object' && value !== null : typeof value === type;
  if (!ok) throw new Error(`the CLI reads ${field} as ${type}, got ${JSON.stringify(value)} in ${JSON.stringify(body).slice(0, 300)}`);
  return value as T;
}

/** The message the CLI prints for a non-2xx answer (§7). */
function messageOf(res: LightMyRequestResponse): string {
  try {
    const body = res.json() as Json;
    if (body.error && typeof body.error === 'object') return String((body.error as Json).message);
    if (typeof body.error === 'string') return body.error;
    if (body.message) return String(body.message);
  } catch {
    // not JSON
  }
  return res.body.slice(0, 200);
}

/** Where a file lands relative to a container (§4): strip the prefix, else the bare name. */
export function relativePath(file: { path: string; name: string }, prefix: string): string {
  if (!file.path.startsWith(prefix)) return file.name;
  return [...file.path.slice(prefix.length).split(',').filter(Boolean), file.name].join('/');
}

const nodePathToCommaPrefix = (nodePath: string) => `,${nodePath.split('/').filter(Boolean).join(',')},`;

export interface Target {
  project: string;
  episode?: string;
}

interface UploadState {
  uploadId: string;
  key: string;
  totalParts: number;
  completedParts: Json[];
}

export class OriginalCli {
  /** `$HOME/.dreamlake/uploads/<hash>.json`, kept across commands (§6). */
  readonly uploads = new Map<string, UploadState>();
  /** Every request sent, as `METHOD path?query`, for assertions on the sequence. */
  readonly sent: string[] = [];
  namespace = '';
  /** Part numbers whose PUT should fail once with a 500, as the recorded fault injection did. */
  failParts = new Set<number>();

  constructor(private readonly t: TestApp, private readonly token: string) {}

  private async call(method: string, url: string, payload?: unknown, auth = true): Promise<LightMyRequestResponse> {
    this.sent.push(`${method} ${url}`);
    const headers: Record<string, string> = { 'user-agent': 'Bun/1.3.14', accept: '*/*' };
    if (auth) headers.authorization = `Bearer ${this.token}`;
    if (payload !== undefined) headers['content-type'] = 'application/json';
    return this.t.inject({ method: method as 'GET', url, headers, ...(payload !== undefined ? { payload: JSON.stringify(payload) } : {}) });
  }

  /** A JSON request whose answer the CLI reads: non-2xx → CliError; 2xx must be a JSON object (§3). */
  private async json(method: string, url: string, payload?: unknown): Promise<Json> {
    const res = await this.call(method, url, payload);
    if (res.statusCode < 200 || res.statusCode > 299) throw new CliError(res.statusCode, `(${res.statusCode}) ${messageOf(res)}`);
    const body = res.json() as Json;
    if (typeof body !== 'object' || body === null) throw new Error(`${method} ${url}: a 2xx without a JSON object body`);
    return body;
  }

  /** A request whose 2xx answer the CLI ignores. */
  private async quiet(method: string, url: string, payload?: unknown): Promise<void> {
    const res = await this.call(method, url, payload);
    if (res.statusCode < 200 || res.statusCode > 299) throw new CliError(res.statusCode, `(${res.statusCode}) ${messageOf(res)}`);
  }

  private projectBase(project: string) {
    return `/namespaces/${this.namespace}/projects/${project}`;
  }

  /** Episodes, bindrs and datasets: `?page=1&pageSize=200`, then on while page < totalPages and the page was not empty (§3). */
  private async paged(url: string, key: string): Promise<Json[] | null> {
    const items: Json[] = [];
    for (let page = 1; ; page++) {
      const res = await this.call('GET', `${url}?page=${page}&pageSize=200`);
      if (res.statusCode === 404) return null; // "(project not found)"
      if (res.statusCode !== 200) throw new CliError(res.statusCode, `(${res.statusCode}) ${messageOf(res)}`);
      const body = res.json();
      const list = need<Json[]>(body, key, 'array');
      need<number>(body, 'total', 'number');
      const totalPages = need<number>(body, 'totalPages', 'number');
      items.push(...list);
      if (!(page < totalPages) || !list.length) return items;
    }
  }

  // §5.1
  async login(): Promise<string> {
    const me = await this.json('GET', '/auth/me');
    this.namespace = need<string>(need<Json>(me, 'namespace', 'object'), 'slug', 'string');
    return this.namespace;
  }

  // §5.2
  async listProjects(): Promise<Json[]> {
    const body = await this.json('GET', `/namespaces/${this.namespace}/projects`);
    const projects = need<Json[]>(body, 'projects', 'array');
    for (const p of projects) {
      need(p, 'id', 'string');
      need(p, 'slug', 'string');
      need(p, 'name', 'string');
      need(p, 'visibility', 'string');
      need(p, 'bindrCount', 'number');
      need(p, 'datasetCount', 'number');
      need(p, 'createdAt', 'string');
    }
    return projects;
  }

  async createProject(name: string, opts: { slug?: string; description?: string; visibility?: 'public' | 'private'; tags?: string[] } = {}) {
    const body = await this.json('POST', `/namespaces/${this.namespace}/projects`, { name, ...opts });
    return { slug: need<string>(body, 'slug', 'string'), id: need<string>(body, 'id', 'string'), visibility: need<string>(body, 'visibility', 'string') };
  }

  async updateProject(slug: string, changes: { name?: string; description?: string; visibility?: 'public' | 'private'; tags?: string[] }) {
    const body = await this.json('PATCH', `${this.projectBase(slug)}`, changes);
    return { visibility: need<string>(body, 'visibility', 'string') };
  }

  private async projectBySlug(slug: string): Promise<Json> {
    const project = (await this.listProjects()).find((p) => p.slug === slug);
    if (!project) throw new CliError(0, `project '${slug}' not found in namespace ${this.namespace}`);
    return project;
  }

  async deleteProject(slug: string): Promise<number> {
    const project = await this.projectBySlug(slug);
    return need<number>(await this.json('DELETE', `/nodes/${project.id}`), 'deleted', 'number');
  }

  // §5.3
  async listEpisodes(project: string): Promise<Json[] | null> {
    const episodes = await this.paged(`${this.projectBase(project)}/episodes`, 'episodes');
    for (const e of episodes ?? []) {
      need(e, 'id', 'string');
      need(e, 'name', 'string');
      need(e, 'nodePath', 'string');
      need(e, 'status', 'string');
      need(e, 'tags', 'array');
      need(e, 'createdAt', 'string');
    }
    return episodes;
  }

  private async episodeByName(project: string, name: string): Promise<Json> {
    const episode = (await this.listEpisodes(project))?.find((e) => e.name === name);
    if (!episode) throw new CliError(0, `episode '${name}' not found in ${project}@${this.namespace}`);
    return episode;
  }

  async deleteEpisode(project: string, name: string): Promise<number> {
    const episode = await this.episodeByName(project, name);
    return need<number>(await this.json('DELETE', `/nodes/${episode.id}`), 'deleted', 'number');
  }

  // §5.4 and §6: one file
  async upload(file: CliFile, target: Target & { to: string; type?: string; bindr?: string }): Promise<string> {
    const hash = hash16(file.bytes);
    const contentType = mimeOf(file.name);
    const totalParts = Math.max(1, Math.ceil(file.bytes.length / PART_SIZE));
    let state = this.uploads.get(hash);
    let done: Json[] = [];
    if (state) {
      const res = await this.call('GET', `/files/upload/multipart/parts-done?${new URLSearchParams({ uploadId: state.uploadId, key: state.key })}`);
      const body = res.statusCode >= 200 && res.statusCode < 300 ? (res.json() as Json) : null;
      if (!body || body.expired === true) state = undefined;
      else done = need<Json[]>(body, 'parts', 'array');
    }
    if (!state) {
      const init = await this.json('POST', '/files/upload/multipart/init', { owner: this.namespace, project: target.project, hash, contentType });
      state = { uploadId: need<string>(init, 'uploadId', 'string'), key: need<string>(init, 'key', 'string'), totalParts, completedParts: [] };
      done = [];
    }
    state.completedParts = done;
    this.uploads.set(hash, state);
    const doneNumbers = new Set(done.map((p) => p.partNumber));
    const missing = Array.from({ length: totalParts }, (_, i) => i + 1).filter((n) => !doneNumbers.has(n));
    if (missing.length) {
      const parts = need<Json>(await this.json('POST', '/files/upload/multipart/parts', { uploadId: state.uploadId, key: state.key, partNumbers: missing }), 'parts', 'object');
      let failed: string | undefined;
      for (let i = 0; i < missing.length; i += 4) {
        await Promise.all(missing.slice(i, i + 4).map(async (n) => {
          const url = new URL(need<string>(parts, String(n), 'string')); // absolute
          const bytes = file.bytes.subarray((n - 1) * PART_SIZE, n * PART_SIZE);
          const fail = this.failParts.delete(n);
          const res = fail
            ? ({ statusCode: 500 } as LightMyRequestResponse)
            : await (this.sent.push(`PUT <part ${n}>`), this.t.inject({ method: 'PUT', url: `${url.pathname}${url.search}`, headers: { 'content-type': contentType }, payload: bytes }));
          if (res.statusCode < 200 || res.statusCode > 299) {
            failed ??= `part ${n} PUT failed (${res.statusCode}) — upload paused, re-run to resume`;
            return;
          }
          state!.completedParts.push({ partNumber: n, etag: String(res.headers.etag ?? '').replace(/"/g, '') });
        }));
        if (failed) throw new CliError(500, failed); // no new parts start; the state stays
      }
    }
    const parts = [...state.completedParts].sort((a, b) => Number(a.partNumber) - Number(b.partNumber));
    await this.quiet('POST', '/files/upload/multipart/complete', { uploadId: state.uploadId, key: state.key, parts });
    this.uploads.delete(hash);
    const name = `/${target.to}/${file.name}`.replace(/\/+/g, '/');
    const kind = target.type ?? kindOf(file.name);
    const registered = await this.json('POST', '/files', {
      name, owner: this.namespace, project: target.project, stagingHash: hash, kind, contentType, size: file.bytes.length, originalName: file.name,
    });
    const bssId = need<string>(registered, 'id', 'string');
    const node = await this.json('POST', '/nodes', {
      namespace: this.namespace, kind, name, project: target.project,
      metadata: { bssId, hash, size: file.bytes.length, contentType },
      ...(target.episode !== undefined ? { episode: target.episode } : {}),
    });
    const nodeId = need<string>(node, 'id', 'string');
    if (target.bindr) {
      const members = `${this.projectBase(target.project)}/bindrs/${target.bindr}/members`;
      const res = await this.call('POST', members, { add: [nodeId] });
      if (res.statusCode === 404) await this.quiet('POST', `${this.projectBase(target.project)}/bindrs`, { name: target.bindr, members: [nodeId] });
      else need<number>(res.json(), 'total', 'number');
    }
    return nodeId;
  }

  // §5.5: a flat folder, one file after another
  async uploadFolder(files: CliFile[], target: Target & { to: string }): Promise<string[]> {
    const ids: string[] = [];
    for (const file of [...files].sort((a, b) => (a.name < b.name ? -1 : 1))) ids.push(await this.upload(file, target));
    return ids;
  }

  private async contents(id: string, kind?: string): Promise<Json[]> {
    const files: Json[] = [];
    for (let page = 1; ; page++) {
      const body = await this.json('GET', `/nodes/${id}/contents?${new URLSearchParams({ page: String(page), pageSize: '500', ...(kind ? { kind } : {}) })}`);
      const list = need<Json[]>(body, 'files', 'array');
      for (const f of list) {
        need(f, 'id', 'string');
        need(f, 'name', 'string');
        need(f, 'path', 'string');
        need(f, 'kind', 'string');
        need<number>(need<Json>(f, 'metadata', 'object'), 'size', 'number');
        need(f, 'createdAt', 'string');
      }
      files.push(...list);
      if (!(page < need<number>(body, 'filePageCount', 'number')) || !list.length) return files;
    }
  }

  // §5.6: rows as the CLI shows them (relative path, kind, size); --prefix filters on the client
  async list(target: Target & { type?: string; prefix?: string }) {
    let id: string;
    let prefix: string;
    if (target.episode === undefined) {
      const project = await this.projectBySlug(target.project);
      id = project.id as string;
      prefix = `,${target.project},`;
    } else {
      const episode = await this.episodeByName(target.project, target.episode);
      id = episode.id as string;
      prefix = nodePathToCommaPrefix((episode.nodePath as string | undefined) ?? `/${target.project}/${target.episode}`);
    }
    const rows = (await this.contents(id, target.type)).map((f) => ({
      path: relativePath(f as { path: string; name: string }, prefix),
      kind: f.kind as string,
      size: (f.metadata as Json).size as number,
    }));
    const wanted = target.prefix?.replace(/^\//, '');
    return wanted ? rows.filter((r) => r.path.startsWith(wanted)) : rows;
  }

  private lookupUrl(target: Target, path: string) {
    return `/nodes/lookup?${new URLSearchParams({ namespace: this.namespace, project: target.project, path, ...(target.episode !== undefined ? { episode: target.episode } : {}) })}`;
  }

  private async fetchFile(id: string): Promise<Buffer> {
    const url = need<string>(await this.json('GET', `/nodes/${id}/download`), 'url', 'string');
    const absolute = new URL(url); // must be absolute
    this.sent.push(`GET <download url>`);
    const res = await this.t.inject({ method: 'GET', url: `${absolute.pathname}${absolute.search}` }); // no Authorization
    if (res.statusCode !== 200) throw new CliError(res.statusCode, `(${res.statusCode}) ${messageOf(res)}`);
    return res.rawPayload;
  }

  // §5.7: a file → its bytes under its name; a container → every file under its relative path
  async download(target: Target & { from: string }): Promise<Map<string, Buffer>> {
    const res = await this.call('GET', this.lookupUrl(target, target.from));
    if (res.statusCode === 404) throw new CliError(404, `asset not found at ${target.from}`);
    if (res.statusCode !== 200) throw new CliError(res.statusCode, `(${res.statusCode}) ${messageOf(res)}`);
    const node = res.json() as Json;
    const id = need<string>(node, 'id', 'string');
    const kind = need<string>(node, 'kind', 'string');
    const name = need<string>(node, 'name', 'string');
    const path = need<string>(node, 'path', 'string');
    const out = new Map<string, Buffer>();
    if (!['folder', 'episode', 'project'].includes(kind)) {
      out.set(name, await this.fetchFile(id));
      return out;
    }
    const prefix = `${path}${name},`;
    for (const f of await this.contents(id)) out.set(`${name}/${relativePath(f as { path: string; name: string }, prefix)}`, await this.fetchFile(f.id as string));
    return out;
  }

  // §5.8
  async deleteFile(target: Target & { path: string }): Promise<number> {
    const res = await this.call('GET', this.lookupUrl(target, target.path));
    if (res.statusCode === 404) throw new CliError(404, `nothing found at ${target.path}`);
    const id = need<string>(res.json(), 'id', 'string');
    return need<number>(await this.json('DELETE', `/nodes/${id}`), 'deleted', 'number');
  }

  // §5.9 bindrs
  async listBindrs(project: string): Promise<Json[] | null> {
    const bindrs = await this.paged(`${this.projectBase(project)}/bindrs`, 'bindrs');
    for (const b of bindrs ?? []) {
      need(b, 'name', 'string');
      need(b, 'members', 'array');
      need(b, 'tags', 'array');
      need(b, 'createdAt', 'string');
    }
    return bindrs;
  }

  async createBindr(project: string, name: string, opts: { description?: string; tags?: string[]; episodeGlob?: string } = {}) {
    let members: string[] = [];
    if (opts.episodeGlob) members = (await this.listEpisodes(project) ?? []).filter((e) => glob(opts.episodeGlob!, e)).map((e) => e.id as string);
    const { episodeGlob: _g, ...rest } = opts;
    await this.quiet('POST', `${this.projectBase(project)}/bindrs`, { name, members, ...rest });
  }

  async updateBindr(project: string, name: string, change: { add?: string; remove?: string; description?: string; tags?: string[] }): Promise<number | undefined> {
    let total: number | undefined;
    const base = `${this.projectBase(project)}/bindrs/${name}`;
    for (const [op, pattern] of [['add', change.add], ['remove', change.remove]] as const) {
      if (!pattern) continue;
      const ids = (await this.listEpisodes(project) ?? []).filter((e) => glob(pattern, e)).map((e) => e.id as string);
      if (!ids.length) throw new CliError(0, `no episodes match '${pattern}'`);
      total = need<number>(await this.json(op === 'add' ? 'POST' : 'DELETE', `${base}/members`, { [op]: ids }), 'total', 'number');
    }
    if (change.description !== undefined || change.tags !== undefined) {
      await this.quiet('PATCH', base, { description: change.description, tags: change.tags });
    }
    return total;
  }

  async deleteBindr(project: string, name: string) {
    await this.quiet('DELETE', `${this.projectBase(project)}/bindrs/${name}`);
  }

  // §5.10 datasets
  async listDatasets(project: string): Promise<Json[] | null> {
    const datasets = await this.paged(`${this.projectBase(project)}/datasets`, 'datasets');
    for (const d of datasets ?? []) {
      need(d, 'name', 'string');
      need(d, 'bindrs', 'array');
      need(d, 'tags', 'array');
      need(d, 'createdAt', 'string');
    }
    return datasets;
  }

  async createDataset(project: string, name: string, opts: { description?: string; tags?: string[] } = {}) {
    await this.quiet('POST', `${this.projectBase(project)}/datasets`, { name, ...opts });
  }

  async updateDataset(project: string, name: string, change: { add?: string; remove?: string; description?: string; tags?: string[] }) {
    const base = `${this.projectBase(project)}/datasets/${name}`;
    const result: { added?: number; removed?: number; total?: number } = {};
    for (const [op, pattern] of [['add', change.add], ['remove', change.remove]] as const) {
      if (!pattern) continue;
      const names = (await this.listBindrs(project) ?? []).map((b) => b.name as string).filter((n) => globMatch(pattern, n));
      if (!names.length) throw new CliError(0, `no bindrs match '${pattern}'`);
      const body = await this.json(op === 'add' ? 'POST' : 'DELETE', `${base}/bindrs`, { [op]: names });
      result[op === 'add' ? 'added' : 'removed'] = need<number>(body, op === 'add' ? 'added' : 'removed', 'number');
      result.total = need<number>(body, 'total', 'number');
    }
    if (change.description !== undefined || change.tags !== undefined) {
      await this.quiet('PATCH', base, { description: change.description, tags: change.tags });
    }
    return result;
  }

  async deleteDataset(project: string, name: string) {
    await this.quiet('DELETE', `${this.projectBase(project)}/datasets/${name}`);
  }
}

/** `*` `?` `[…]`, whole-string (§4). */
export function globMatch(pattern: string, value: string): boolean {
  const re = pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(value);
}

/** Episode globs match `name` or `nodePath` without its leading `/`. */
function glob(pattern: string, episode: Json): boolean {
  return globMatch(pattern, episode.name as string) || globMatch(pattern, String(episode.nodePath ?? '').replace(/^\//, ''));
}
