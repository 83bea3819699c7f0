// DreamLake collections under load: get-collection, list-collections (page 1 of 10,000) and add-members
// (batches of 100 into one collection growing to 100,000), each with its SQL statements per request and its
// ratio to a bare Fastify route measured in the same run.
import autocannon from 'autocannon';
import { sql } from 'kysely';
import { newId } from '../src/core/ids.js';
import type { LakeDb } from '../src/lake/db.js';
import { countStatements, describeStatements, measure, printMeasurement, spawnServer, startBareFastify, startTarget, stopServer, type BenchTarget, type DialectName, type Measurement } from './lib.js';

const LIST_SIZE = 10_000;
const HOT_MEMBERS = 10;
const BATCH = 100;
const GROW_TO = 100_000;
const SLICES = 5;
const SECONDS = 4;

export async function run(dialects: DialectName[]): Promise<void> {
  const bare = await startBareFastify();
  let baseline: Measurement;
  try {
    baseline = await measure({ scenario: 'bare Fastify route (ceiling)', dialect: dialects[0], url: bare.url, seconds: SECONDS });
  } finally {
    await bare.close();
  }
  for (const dialect of dialects) {
    const target = await startTarget(dialect);
    try {
      await scenarios(target, baseline.rps);
    } finally {
      await target.close();
    }
  }
}

async function scenarios(target: BenchTarget, bareRps: number) {
  const token = await target.token('bench');
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const root = '/namespaces/bench/projects/lab/collections';
  const { projectId, files } = await seed(target, headers);
  const report = async (m: Measurement, request: Parameters<typeof countStatements>[1]) => {
    const counted = await countStatements(target, request);
    console.log(`${''.padEnd(53)} ↳ ${describeStatements(counted)} (status ${counted.status}), ${(m.rps / bareRps).toFixed(2)}× bare Fastify`);
  };

  const hot = `${root}/hot`;
  const get = await measure({ scenario: `get-collection (${HOT_MEMBERS} members)`, dialect: target.dialect, url: target.url + hot, headers, seconds: SECONDS });
  await report(get, { method: 'GET', url: hot, headers });

  const list = `${root}?page=1`;
  const listed = await measure({ scenario: `list-collections page 1 of ${LIST_SIZE}`, dialect: target.dialect, url: target.url + list, headers, seconds: SECONDS });
  await report(listed, { method: 'GET', url: list, headers });

  if (target.dialect === 'sqlite') await withoutResponseCache(target, headers, [hot, list], bareRps);

  // Appends: each request carries the next 100 files; Prefer: return=minimal keeps the answer flat in size too.
  const grow = `${root}/grow/members`;
  const addHeaders = { ...headers, prefer: 'return=minimal' };
  let next = 0;
  const request: autocannon.Request = {
    method: 'POST',
    path: grow,
    headers: addHeaders,
    setupRequest: (req) => {
      const from = (next++ * BATCH) % GROW_TO;
      return { ...req, body: JSON.stringify({ add: files.slice(from, from + BATCH) }) };
    },
  };
  const perSlice = GROW_TO / BATCH / SLICES;
  let first: Measurement | undefined;
  let last: Measurement | undefined;
  for (let s = 0; s < SLICES; s++) {
    const [from, to] = [s, s + 1].map((k) => `${(k * GROW_TO) / SLICES / 1000}k`);
    last = await measureAmount(target, `add-members ${BATCH}/request, ${from}→${to}`, [request], perSlice);
    first ??= last;
  }
  const size = await memberCount(target.database.db as LakeDb, projectId, 'grow');
  console.log(`${''.padEnd(53)} ↳ collection now holds ${size} members; last/first slice throughput ${(last!.rps / first!.rps).toFixed(2)}`);
  await report(last!, { method: 'POST', url: grow, headers: addHeaders, payload: { add: files.slice(GROW_TO + HOT_MEMBERS, GROW_TO + HOT_MEMBERS + BATCH) } });

  // The documented default answers with every member: its cost grows with the collection (why minimal exists).
  const again = files.slice(0, BATCH);
  await measureAmount(target, `  same at ${size / 1000}k, full members list`, [{ method: 'POST', path: grow, headers, body: JSON.stringify({ add: again }) }], 20);
}

/**
 * The response cache (SQLite only) answers repeated reads of unchanged data without running their query.
 * What the reads cost without it: a second server on the same file with the cache off; then the cached one
 * again while a writer keeps changing another collection, so that nearly every read misses.
 */
async function withoutResponseCache(target: BenchTarget, headers: Record<string, string>, paths: string[], bareRps: number) {
  const uncached = await spawnServer({ ...target.env, DREAMLAKE_RESPONSE_CACHE_ENTRIES: '0' });
  try {
    for (const path of paths) {
      const m = await measure({ scenario: `  same, response cache off: ${path.split('/').pop()}`, dialect: target.dialect, url: uncached.url + path, headers, seconds: SECONDS });
      console.log(`${''.padEnd(53)} ↳ ${(m.rps / bareRps).toFixed(2)}× bare Fastify`);
    }
  } finally {
    await stopServer(uncached.child);
  }
  let n = 0;
  const writer = autocannon({
    url: target.url,
    connections: 1,
    duration: SECONDS,
    requests: [{ method: 'PATCH', path: `${paths[0].replace(/\/hot$/, '/c-0')}`, headers, setupRequest: (req) => ({ ...req, body: JSON.stringify({ description: `write ${n++}` }) }) }],
  });
  const read = await measure({ scenario: `  same, cached, while 1 client writes: ${paths[0].split('/').pop()}`, dialect: target.dialect, url: target.url + paths[0], headers, seconds: SECONDS, connections: 9 });
  const wrote = await writer;
  console.log(`${''.padEnd(53)} ↳ meanwhile ${Math.round(wrote.requests.average)} writes/s (non-2xx ${wrote.non2xx}); ${(read.rps / bareRps).toFixed(2)}× bare Fastify`);
}

/**
 * A fixed number of requests; throughput is requests / time to the last response (autocannon's per-second
 * average, and its end, which waits for the next whole second, mean little for runs this short).
 */
async function measureAmount(target: BenchTarget, scenario: string, requests: autocannon.Request[], amount: number): Promise<Measurement> {
  const started = performance.now();
  let finished = started;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon({ url: target.url, requests, amount, connections: 10 }, (err, res) => (err ? reject(err) : resolve(res)));
    instance.on('response', () => {
      finished = performance.now();
    });
  });
  const seconds = (finished - started) / 1000;
  const m: Measurement = {
    scenario,
    dialect: target.dialect,
    rps: Math.round(result.requests.total / seconds),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
  printMeasurement(m);
  return m;
}

/**
 * User, namespace and project over HTTP (as a client would); then straight into the database: the files
 * (leaf nodes) that members must be, and the 10,000 collections.
 */
async function seed(target: BenchTarget, headers: Record<string, string>) {
  const me = await fetch(`${target.url}/auth/me`, { headers });
  if (!me.ok) throw new Error(`GET /auth/me: ${me.status}`);
  const made = await fetch(`${target.url}/namespaces/bench/projects`, { method: 'POST', headers, body: JSON.stringify({ name: 'Lab' }) });
  if (!made.ok) throw new Error(`create project: ${made.status} ${await made.text()}`);
  const projectId = ((await made.json()) as { id: string }).id;

  const db = target.database.db as LakeDb;
  const now = new Date().toISOString();
  // grow's 100,000, then hot's 10 (which the listed collections share), then 100 for counting statements.
  const files = Array.from({ length: GROW_TO + HOT_MEMBERS + BATCH }, () => newId());
  const node = (id: string, i: number) => {
    const name = `f-${String(i).padStart(7, '0')}.bin`;
    return {
      id,
      project_id: projectId,
      parent_id: null,
      name,
      path: `/${name}`,
      kind: 'file',
      leaf: 1,
      tags: '[]',
      metadata: null,
      size: 16,
      content_type: 'application/octet-stream',
      sha256: '0'.repeat(64),
      description: null,
      status: null,
      created_at: now,
      updated_at: now,
      deleted_at: null,
    };
  };
  const collection = (name: string, members: number) => ({
    id: newId(),
    project_id: projectId,
    dataset_id: null,
    name,
    description: null,
    tags: '[]',
    metadata: null,
    next_position: members,
    created_at: now,
    updated_at: now,
    deleted_at: null,
  });
  const rows = [
    ...Array.from({ length: LIST_SIZE - 2 }, (_, i) => collection(`c-${i}`, 3)),
    collection('grow', 0),
    collection('hot', HOT_MEMBERS),
  ];
  const shared = files.slice(GROW_TO, GROW_TO + HOT_MEMBERS);
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < files.length; i += 1000) await trx.insertInto('nodes').values(files.slice(i, i + 1000).map((id, k) => node(id, i + k))).execute();
    for (let i = 0; i < rows.length; i += 500) await trx.insertInto('collections').values(rows.slice(i, i + 500)).execute();
    const members = rows.flatMap((c) => shared.slice(0, c.next_position).map((node_id, position) => ({ collection_id: c.id, node_id, position })));
    for (let i = 0; i < members.length; i += 2000) await trx.insertInto('collection_members').values(members.slice(i, i + 2000)).execute();
  });
  if (target.dialect === 'postgres') await sql`analyze`.execute(db);
  return { projectId, files };
}
async function memberCount(db: LakeDb, projectId: string, name: string): Promise<number> {
  const row = await db
    .selectFrom('collections as c')
    .select((eb) => eb.selectFrom('collection_members as m').select(sql<number>`count(*)`.as('n')).whereRef('m.collection_id', '=', 'c.id').as('n'))
    .where('c.project_id', '=', projectId)
    .where('c.name', '=', name)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
