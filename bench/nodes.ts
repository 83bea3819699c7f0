// DreamLake node tree and blob storage: a 1 GiB upload and download over loopback (MB/s and the server's
// peak RSS, which must stay under 150 MB), page 1 of a folder with 100,000 children, and small-file uploads.
// The transfers run twice: against the server as shipped, and against one started with a smaller V8 young
// generation (TUNED), because most of the peak is V8 heap slack rather than data held by the upload path.
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import type autocannon from 'autocannon';
import { sql } from 'kysely';
import { newId } from '../src/core/ids.js';
import type { LakeDb, NodesTable } from '../src/lake/db.js';
import { countStatements, measure, startTarget, type BenchTarget, type DialectName } from './lib.js';

const BIG = 1024 ** 3;
const CHUNK = 1024 ** 2;
const CHILDREN = 100_000;
const SECONDS = 4;
const RSS_LIMIT_MB = 150;
const TUNED = '--max-semi-space-size=2';

export async function run(dialects: DialectName[]): Promise<void> {
  for (const dialect of dialects) {
    for (const tuned of [false, true]) {
      const target = await startTarget(dialect, tuned ? { NODE_OPTIONS: TUNED } : {});
      try {
        const auth = { authorization: `Bearer ${await target.token('bench')}` };
        const projectId = await createProject(target, auth);
        await transfers(target, auth, tuned ? ` [${TUNED}]` : '');
        if (!tuned) await tree(target, auth, projectId);
      } finally {
        await target.close();
      }
    }
  }
}

async function transfers(target: BenchTarget, auth: Record<string, string>, variant: string) {
  const root = `${target.url}/namespaces/bench/projects/lab`;
  const label = (s: string) => `${target.dialect.padEnd(8)} ${`${s}${variant}`.padEnd(44)}`;
  const startRss = peakRssMb(target);
  const up = await upload(`${root}/files/big/one-gib.bin`, auth);
  const afterUpload = peakRssMb(target);
  console.log(`${label('upload 1 GiB')} ${mbps(up.ms)} MB/s  ${(up.ms / 1000).toFixed(1)} s  server peak RSS ${afterUpload} MB${verdict(afterUpload)}`);
  const down = await download(`${root}/nodes/${up.id}/content`, auth);
  const afterDownload = peakRssMb(target);
  console.log(`${label('download 1 GiB')} ${mbps(down.ms)} MB/s  ${(down.ms / 1000).toFixed(1)} s  server peak RSS ${afterDownload} MB${verdict(afterDownload)}`);
  console.log(`${''.padEnd(53)} ↳ server peak RSS before the transfers: ${startRss} MB; ${down.bytes === BIG ? 'all bytes came back' : `got ${down.bytes} bytes!`}`);
}

async function tree(target: BenchTarget, auth: Record<string, string>, projectId: string) {
  const folderId = await seedChildren(target, projectId);
  const listPath = `/namespaces/bench/projects/lab/nodes?parentId=${folderId}`;
  await measure({ scenario: `list page 1 of a folder of ${CHILDREN / 1000}k children`, dialect: target.dialect, url: target.url + listPath, headers: auth, seconds: SECONDS });
  const counted = await countStatements(target, { method: 'GET', url: listPath, headers: auth });
  console.log(`${''.padEnd(53)} ↳ ${counted.statements} SQL statement(s)/request (status ${counted.status})`);

  // Small files: 4 KiB each to a new path every time (hash, fsync, rename, one transaction).
  let n = 0;
  const small = Buffer.alloc(4096, 7);
  const put: autocannon.Request = {
    method: 'PUT',
    headers: { ...auth, 'content-type': 'application/octet-stream' },
    setupRequest: (req) => ({ ...req, path: `/namespaces/bench/projects/lab/files/small/${n++ % 100}/f-${n}.bin`, body: small }),
  };
  await measure({ scenario: 'upload 4 KiB files (new paths)', dialect: target.dialect, url: target.url, requests: [put], seconds: SECONDS });
}

/** User, namespace and project over HTTP, as a client would. */
async function createProject(target: BenchTarget, auth: Record<string, string>): Promise<string> {
  const headers = { ...auth, 'content-type': 'application/json' };
  if (!(await fetch(`${target.url}/auth/me`, { headers })).ok) throw new Error('GET /auth/me failed');
  const made = await fetch(`${target.url}/namespaces/bench/projects`, { method: 'POST', headers, body: JSON.stringify({ name: 'Lab' }) });
  if (!made.ok) throw new Error(`create project: ${made.status} ${await made.text()}`);
  return ((await made.json()) as { id: string }).id;
}

/** Streams BIG bytes (one 1 MiB buffer, repeated) with backpressure; answers the new node's ID and the time. */
function upload(url: string, auth: Record<string, string>): Promise<{ id: string; ms: number }> {
  const chunk = Buffer.alloc(CHUNK);
  for (let i = 0; i < CHUNK; i += 4) chunk.writeUInt32LE((i * 2654435761) >>> 0, i);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'PUT', headers: { ...auth, 'content-type': 'application/octet-stream', 'content-length': String(BIG) } });
    req.on('error', reject);
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        if (res.statusCode !== 201) return reject(new Error(`upload: ${res.statusCode} ${body}`));
        resolve({ id: (JSON.parse(body) as { id: string }).id, ms: performance.now() - started });
      });
    });
    let sent = 0;
    const write = () => {
      while (sent < BIG) {
        sent += CHUNK;
        if (!req.write(chunk)) return void req.once('drain', write);
      }
      req.end();
    };
    write();
  });
}

function download(url: string, auth: Record<string, string>): Promise<{ bytes: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    request(url, { headers: auth }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => (res.statusCode === 200 ? resolve({ bytes, ms: performance.now() - started }) : reject(new Error(`download: ${res.statusCode}`))));
    })
      .on('error', reject)
      .end();
  });
}

/** One folder with CHILDREN files, straight into the database (the tree's own write path is measured above). */
async function seedChildren(target: BenchTarget, projectId: string): Promise<string> {
  const db = target.database.db as LakeDb;
  const now = new Date().toISOString();
  const folder: NodesTable = {
    id: newId(), project_id: projectId, parent_id: null, name: 'wide', path: '/wide', kind: 'folder', leaf: 0, tags: '[]', metadata: null,
    size: null, content_type: null, sha256: null, description: null, status: null, child_count: CHILDREN, created_at: now, updated_at: now, deleted_at: null,
  };
  const child = (i: number): NodesTable => {
    const name = `clip-${String(i).padStart(6, '0')}.mp4`;
    return { ...folder, id: newId(), parent_id: folder.id, name, path: `/wide/${name}`, kind: 'video', leaf: 1, child_count: 0, size: 1000, content_type: 'video/mp4', sha256: '0'.repeat(64) };
  };
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('nodes').values(folder).execute();
    await trx
      .insertInto('node_trees')
      .values({ project_id: projectId, version: 1, root_count: 1 })
      .onConflict((oc) => oc.column('project_id').doUpdateSet({ root_count: sql`node_trees.root_count + 1` }))
      .execute();
    for (let i = 0; i < CHILDREN; i += 1000) {
      await trx.insertInto('nodes').values(Array.from({ length: Math.min(1000, CHILDREN - i) }, (_, k) => child(i + k))).execute();
    }
  });
  if (target.dialect === 'postgres') await sql`vacuum analyze nodes`.execute(db);
  return folder.id;
}

/** VmHWM of the child server: the most resident memory it has had since it started. */
function peakRssMb(target: BenchTarget): number {
  const status = readFileSync(`/proc/${target.child.pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)\s+kB/.exec(status)?.[1] ?? NaN);
  return Math.round(kb / 1024);
}

const mbps = (ms: number) => String(Math.round(BIG / 1e6 / (ms / 1000))).padStart(7);
const verdict = (mb: number) => (mb < RSS_LIMIT_MB ? ` (< ${RSS_LIMIT_MB} MB: ok)` : ` (OVER the ${RSS_LIMIT_MB} MB limit)`);
