import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { signToken } from '../../src/core/auth/jwt.js';
import { runCli, startServerProcess, type ServerProcess } from './server-process.js';

// kill -9 under write traffic on all three APIs, again and again on the same data: after every restart each
// write the server acknowledged (2xx) must be there with its exact content, and nothing may answer a 5xx.
// Used by test/ops/crash.test.ts (a few cycles) and bench/crash-drill.ts (many).

const JWT_SECRET = 'crash-drill-secret-crash-drill-secret';
const SPACE_TOKEN = 'crash-drill-space-token';

export interface DrillReport {
  cycles: number;
  /** Writes acknowledged before a kill, by kind. */
  acked: Record<string, number>;
  /** Acknowledged writes missing or different after a restart (should be empty). */
  lost: string[];
  /** 5xx answers seen during the load (should be empty). */
  serverErrors: string[];
  /** Answers by status during the load, and connection errors by code (expected at each kill). */
  statuses: Record<string, number>;
  /** Milliseconds from spawn to listening, per restart. */
  restartMs: number[];
}

interface Answer {
  status: number;
  body: Buffer;
}

function send(agent: http.Agent, url: string, method: string, headers: Record<string, string>, body?: Buffer | string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Acked {
  files: { id: string; sha256: string }[];
  documents: { id: number; title: string }[];
  users: { id: number; twitchId: string }[];
  couch: Map<string, string>;
}

export async function runCrashDrill(options: { dataDir: string; database: string; cycles: number; loadMs?: [number, number] }): Promise<DrillReport> {
  const { dataDir, database, cycles } = options;
  const [minLoad, maxLoad] = options.loadMs ?? [300, 1200];
  const common = ['--data', dataDir, '--database', database];
  const env = { DREAMLAKE_JWT_SECRET: JWT_SECRET, DREAMSCRIPT_RATE_LIMIT: '0', DREAMSPACE_APITOKEN: SPACE_TOKEN };
  const keyRun = await runCli(['keys', 'create', '--admin', ...common], env);
  if (keyRun.code !== 0) throw new Error(`keys create failed: ${keyRun.stderr}`);
  const scriptKey = keyRun.stdout.trim();
  const bearer = `Bearer ${await signToken(JWT_SECRET, 'alice', 1)}`;
  const json = { 'content-type': 'application/json' };
  const H = {
    lake: { authorization: bearer, ...json },
    script: { 'x-api-key': scriptKey, ...json },
    space: { 'x-api-key': SPACE_TOKEN, ...json },
  };
  const report: DrillReport = { cycles: 0, acked: {}, lost: [], serverErrors: [], statuses: {}, restartMs: [] };
  const acked: Acked = { files: [], documents: [], users: [], couch: new Map() };
  const count = (bucket: Record<string, number>, k: string) => (bucket[k] = (bucket[k] ?? 0) + 1);
  let projectId = 0;

  const start = async (): Promise<ServerProcess> => {
    const t0 = Date.now();
    const server = await startServerProcess([...common, '--log-level', 'warn'], env);
    report.restartMs.push(Date.now() - t0);
    return server;
  };

  /** Every acknowledged write, read back through the API. */
  const verify = async (url: string, when: string) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    try {
      for (const f of acked.files) {
        const res = await send(agent, `${url}/namespaces/alice/projects/lab/nodes/${f.id}/content`, 'GET', H.lake);
        if (res.status !== 200 || sha256(res.body) !== f.sha256) report.lost.push(`${when}: file ${f.id} → ${res.status}`);
      }
      for (const d of acked.documents) {
        const res = await send(agent, `${url}/dreamscript/documents/${d.id}`, 'GET', H.script);
        if (res.status !== 200 || JSON.parse(res.body.toString()).title !== d.title) report.lost.push(`${when}: document ${d.id} → ${res.status}`);
      }
      for (const u of acked.users) {
        const res = await send(agent, `${url}/dreamspace/users/${u.id}`, 'GET', H.space);
        if (res.status !== 200 || JSON.parse(res.body.toString()).twitch_id !== u.twitchId) report.lost.push(`${when}: user ${u.id} → ${res.status}`);
      }
      if (acked.couch.size) {
        const res = await send(agent, `${url}/dreamscript/couch/crashdb/_all_docs`, 'POST', H.script, JSON.stringify({ keys: [...acked.couch.keys()] }));
        const rows = res.status === 200 ? (JSON.parse(res.body.toString()).rows as { key: string; value?: { rev: string } }[]) : [];
        const stored = new Map(rows.map((r) => [r.key, r.value?.rev]));
        for (const [id, rev] of acked.couch) if (stored.get(id) !== rev) report.lost.push(`${when}: couch ${id} ${rev} → ${stored.get(id) ?? res.status}`);
      }
    } finally {
      agent.destroy();
    }
  };

  for (let cycle = 0; cycle <= cycles; cycle++) {
    const server = await start();
    const { url } = server;
    if (cycle === 0) {
      const agent = new http.Agent();
      const created = [
        await send(agent, `${url}/namespaces/alice/projects`, 'POST', H.lake, JSON.stringify({ name: 'Lab' })),
        await send(agent, `${url}/dreamscript/projects`, 'POST', H.script, JSON.stringify({ name: 'crash' })),
        await send(agent, `${url}/dreamscript/couch/crashdb`, 'PUT', H.script),
      ];
      agent.destroy();
      if (created.some((r) => r.status !== 201)) throw new Error(`set-up failed: ${created.map((r) => `${r.status} ${r.body}`).join('; ')}`);
      projectId = JSON.parse(created[1].body.toString()).id;
    }
    await verify(url, `after restart ${cycle}`);
    if (cycle === cycles) {
      server.child.kill('SIGTERM');
      await server.exited;
      break;
    }

    let killed = false;
    const writer = async (kind: string, write: (agent: http.Agent, i: number) => Promise<void>) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      for (let i = 0; !killed; i++) {
        try {
          await write(agent, i);
        } catch (err) {
          count(report.statuses, `${kind} ${(err as { code?: string }).code ?? (err as Error).message}`);
          if (killed) break;
        }
      }
      agent.destroy();
    };
    const answered = (kind: string, res: Answer) => {
      count(report.statuses, `${kind} ${res.status}`);
      if (res.status >= 500) report.serverErrors.push(`${kind} ${res.status} ${res.body.toString().slice(0, 200)}`);
      return res.status >= 200 && res.status < 300;
    };
    const tag = `${cycle}-${randomBytes(3).toString('hex')}`;
    const writers = [
      writer('lake', async (agent, i) => {
        const content = randomBytes(16 * 1024 + ((i * 7919) % (128 * 1024)));
        const res = await send(agent, `${url}/namespaces/alice/projects/lab/files/c${tag}/f${i}.bin`, 'PUT', { ...H.lake, 'content-type': 'application/octet-stream' }, content);
        if (answered('lake', res)) acked.files.push({ id: JSON.parse(res.body.toString()).id, sha256: sha256(content) });
      }),
      writer('script', async (agent, i) => {
        const title = `doc ${tag} ${i}`;
        const res = await send(agent, `${url}/dreamscript/documents`, 'POST', H.script, JSON.stringify({ title, content: 'x'.repeat(i % 500), projectId }));
        if (answered('script', res)) acked.documents.push({ id: JSON.parse(res.body.toString()).id, title });
      }),
      writer('space', async (agent, i) => {
        const twitchId = `${tag}-${i}`;
        const res = await send(agent, `${url}/dreamspace/users`, 'POST', H.space, JSON.stringify({ twitch_id: twitchId, name: `viewer ${i}` }));
        if (answered('space', res)) acked.users.push({ id: JSON.parse(res.body.toString()).user_id, twitchId });
      }),
      writer('couch', async (agent, i) => {
        const docs = Array.from({ length: 25 }, (_, k) => ({ _id: `c${tag}-${i}-${k}`, n: k, text: 'y'.repeat(k * 10) }));
        const res = await send(agent, `${url}/dreamscript/couch/crashdb/_bulk_docs`, 'POST', H.script, JSON.stringify({ docs }));
        if (answered('couch', res)) for (const r of JSON.parse(res.body.toString()) as { id: string; rev?: string }[]) if (r.rev) acked.couch.set(r.id, r.rev);
      }),
    ];
    await sleep(minLoad + Math.random() * (maxLoad - minLoad));
    killed = true;
    server.child.kill('SIGKILL');
    await server.exited;
    await Promise.all(writers);
    report.cycles++;
  }
  report.acked = { files: acked.files.length, documents: acked.documents.length, users: acked.users.length, couchDocs: acked.couch.size };
  return report;
}
