// SIGTERM under keep-alive traffic, again and again: every cycle starts the built server, runs readers and
// uploaders on keep-alive connections, sends SIGTERM mid-traffic and checks the exit code, that the database was
// closed (no SQLite -wal left) and what each request got. Run after `npm run build`:
//   node --import tsx bench/shutdown-drill.ts [cycles] [postgres-url]
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signToken } from '../src/core/auth/jwt.js';

const cycles = Number(process.argv[2] ?? 10);
const pgUrl = process.argv[3];
const SECRET = 'drill-secret-drill-secret-drill-secret';
const bin = new URL('../bin/dreamlake.js', import.meta.url).pathname;

function request(agent: http.Agent, url: string, method: string, headers: Record<string, string>, body?: Buffer) {
  return new Promise<number>((resolve, reject) => {
    const req = http.request(url, { method, headers, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const totals = { cycles: 0, exit0: 0, walLeft: 0, answered: 0, status: {} as Record<string, number>, errors: {} as Record<string, number> };

for (let cycle = 0; cycle < cycles; cycle++) {
  const data = mkdtempSync(join(tmpdir(), 'dreamlake-drill-'));
  const database = pgUrl ? pgUrl : join(data, 'dreamlake.sqlite');
  if (pgUrl) {
    // A fresh schema per cycle.
    const pg = (await import('pg')).default;
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    await client.query('drop schema if exists drill cascade; create schema drill');
    await client.end();
  }
  const url = pgUrl ? `${pgUrl}${pgUrl.includes('?') ? '&' : '?'}options=-c%20search_path%3Ddrill` : database;
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--data', data, '--database', url, '--log-level', 'warn'], {
    env: { ...process.env, DREAMLAKE_JWT_SECRET: SECRET, DREAMSCRIPT_RATE_LIMIT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const base = await new Promise<string>((resolve) => {
    const check = () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
      else setTimeout(check, 50);
    };
    check();
  });
  const headers = { authorization: `Bearer ${await signToken(SECRET, 'alice', 1)}`, 'content-type': 'application/json' };
  const setup = new http.Agent({ keepAlive: true });
  await request(setup, `${base}/namespaces/alice/projects`, 'POST', headers, Buffer.from('{"name":"Lab"}'));
  setup.destroy();

  let stopping = false;
  const record = (key: string, bucket: Record<string, number>) => (bucket[key] = (bucket[key] ?? 0) + 1);
  const loop = async (upload: boolean, n: number) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; ; i++) {
      try {
        const status = upload
          ? await request(agent, `${base}/namespaces/alice/projects/lab/files/u${n}-${i}.bin`, 'PUT', { ...headers, 'content-type': 'application/octet-stream' }, Buffer.alloc(256 * 1024, i))
          : await request(agent, `${base}/namespaces/alice/projects/lab`, 'GET', headers);
        totals.answered++;
        record(String(status), totals.status);
      } catch (err) {
        const code = (err as { code?: string }).code ?? (err as Error).message;
        // Refused connections were never accepted: the server had stopped listening. Anything else after an
        // accepted request would be a request left unanswered.
        record(code, totals.errors);
        if (stopping || code === 'ECONNREFUSED') break;
      }
    }
    agent.destroy();
  };
  const loops = [...Array.from({ length: 8 }, (_, n) => loop(false, n)), ...Array.from({ length: 2 }, (_, n) => loop(true, n))];
  await new Promise((r) => setTimeout(r, 1500));
  child.kill('SIGTERM');
  const code = await exited;
  stopping = true;
  await Promise.all(loops);
  totals.cycles++;
  if (code === 0) totals.exit0++;
  if (!pgUrl && existsSync(`${database}-wal`)) totals.walLeft++;
  rmSync(data, { recursive: true, force: true });
  console.log(`cycle ${cycle + 1}: exit ${code}`);
}
console.log(JSON.stringify(totals, null, 2));
