// Abusive clients against a running server, while a well-behaved client keeps working:
//   node --import tsx bench/abuse-audit.ts <port> <server pid> <seconds>
// Env: TOKEN (DreamLake JWT), SCRIPT_KEY, SPACE_TOKEN, IDLE (idle connections, 500), DRIBBLE (byte-by-byte bodies
// per route, 20), STUCK (continuous _changes consumers that never read, 20), BIG (a file path in alice/up to
// download without reading). Prints /health and write latencies, statuses and the server's VmRSS over time.
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';

const [portArg = '18440', pidArg = '0', secondsArg = '40'] = process.argv.slice(2);
const port = Number(portArg);
const pid = Number(pidArg);
const seconds = Number(secondsArg);
const token = process.env.TOKEN ?? '';
const scriptKey = process.env.SCRIPT_KEY ?? '';
const spaceToken = process.env.SPACE_TOKEN ?? 'spacetok';
const idleN = Number(process.env.IDLE ?? 500);
const dribbleN = Number(process.env.DRIBBLE ?? 20);
const stuckN = Number(process.env.STUCK ?? 20);
const base = `http://127.0.0.1:${port}`;
const end = Date.now() + seconds * 1000;
const sockets: Socket[] = [];
const closedEarly = new Map<string, number>();

const rss = () => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return -1;
  }
};

function raw(label: string, head: string, onConnect?: (s: Socket) => void): Socket {
  const s = connect(port, '127.0.0.1', () => {
    s.write(head);
    onConnect?.(s);
  });
  s.on('error', () => undefined);
  s.on('close', () => {
    if (Date.now() < end) closedEarly.set(label, (closedEarly.get(label) ?? 0) + 1);
  });
  sockets.push(s);
  return s;
}

// 1. Idle connections: connect, send nothing.
for (let i = 0; i < idleN; i++) raw('idle', '');

// 2. Bodies dribbled one byte every 500 ms, on several routes.
const dribbleRoutes: { label: string; method: string; path: string; headers: string; body: string }[] = [
  { label: 'lake PUT file', method: 'PUT', path: '/namespaces/alice/projects/up/files/slow/f.bin', headers: `Authorization: Bearer ${token}\r\nContent-Type: application/octet-stream\r\n`, body: 'x'.repeat(100000) },
  { label: 'lake POST nodes', method: 'POST', path: '/namespaces/alice/projects/up/nodes', headers: `Authorization: Bearer ${token}\r\nContent-Type: application/json\r\n`, body: JSON.stringify({ path: '/slowdir', kind: 'folder', metadata: { pad: 'y'.repeat(5000) } }) },
  { label: 'script POST documents', method: 'POST', path: '/dreamscript/documents', headers: `X-API-Key: ${scriptKey}\r\nContent-Type: application/json\r\n`, body: JSON.stringify({ title: 'slow', content: 'z'.repeat(5000) }) },
  { label: 'couch PUT doc', method: 'PUT', path: '/dreamscript/couch/abusedb/slowdoc', headers: `Authorization: Basic ${Buffer.from(`k:${scriptKey}`).toString('base64')}\r\nContent-Type: application/json\r\n`, body: JSON.stringify({ pad: 'w'.repeat(5000) }) },
  { label: 'space POST users', method: 'POST', path: '/dreamspace/users', headers: `X-API-KEY: ${spaceToken}\r\nContent-Type: application/json\r\n`, body: JSON.stringify({ twitch_id: 'slow', name: 'v'.repeat(200) }) },
];
for (const r of dribbleRoutes) {
  for (let i = 0; i < dribbleN; i++) {
    raw(r.label, `${r.method} ${r.path} HTTP/1.1\r\nHost: x\r\n${r.headers}Content-Length: ${r.body.length}\r\n\r\n`, (s) => {
      let at = 0;
      const t = setInterval(() => {
        if (s.destroyed || at >= r.body.length || Date.now() > end) return clearInterval(t);
        s.write(r.body[at++]);
      }, 500);
    });
  }
}

// 3. Continuous _changes consumers that never read (and a download nobody reads).
for (let i = 0; i < stuckN; i++) {
  const s = raw('stuck _changes', `GET /dreamscript/couch/abusedb/_changes?feed=continuous&since=0&include_docs=true&heartbeat=1000 HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ${Buffer.from(`k:${scriptKey}`).toString('base64')}\r\n\r\n`);
  s.pause();
}
if (process.env.BIG) {
  for (let i = 0; i < 5; i++) {
    const s = raw('stuck download', `GET /namespaces/alice/projects/up/nodes/${process.env.BIG}/content HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`);
    s.pause();
  }
}

// 4. A well-behaved client: /health every 200 ms, and writes that feed the changes feed.
const lat: Record<string, number[]> = {};
const statuses = new Map<string, number>();
async function timed(label: string, path: string, init?: RequestInit) {
  const t0 = performance.now();
  let status = 0;
  try {
    const res = await fetch(base + path, { ...init, signal: AbortSignal.timeout(10000) });
    status = res.status;
    await res.arrayBuffer();
  } catch {
    status = 0;
  }
  (lat[label] ??= []).push(performance.now() - t0);
  statuses.set(`${label} ${status}`, (statuses.get(`${label} ${status}`) ?? 0) + 1);
}
const pad = 'p'.repeat(20000);
const loops = [
  (async () => {
    while (Date.now() < end) {
      await timed('GET /health', '/health');
      await new Promise((r) => setTimeout(r, 200));
    }
  })(),
  (async () => {
    let i = 0;
    while (Date.now() < end) {
      await timed('couch PUT doc', `/dreamscript/couch/abusedb/d${Date.now()}-${i++}`, { method: 'PUT', headers: { authorization: `Basic ${Buffer.from(`k:${scriptKey}`).toString('base64')}`, 'content-type': 'application/json' }, body: JSON.stringify({ pad }) });
      await timed('lake POST nodes', '/namespaces/alice/projects/up/nodes', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ path: `/ok/${i}`, kind: 'folder' }) });
      await timed('space POST tx', '/dreamspace/users', { method: 'POST', headers: { 'x-api-key': spaceToken, 'content-type': 'application/json' }, body: JSON.stringify({ twitch_id: `ok${i}`, name: 'ok' }) });
    }
  })(),
  (async () => {
    const t0 = Date.now();
    while (Date.now() < end) {
      const open = sockets.filter((s) => !s.destroyed).length;
      console.log(`t=${((Date.now() - t0) / 1000).toFixed(0)}s rss=${rss().toFixed(0)}MiB open abusive sockets=${open}`);
      await new Promise((r) => setTimeout(r, 5000));
    }
  })(),
];
await Promise.all(loops);
const pct = (a: number[], p: number) => a.slice().sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(a.length * p))]?.toFixed(0);
for (const [k, a] of Object.entries(lat)) console.log(`${k}: n=${a.length} p50=${pct(a, 0.5)}ms p99=${pct(a, 0.99)}ms max=${pct(a, 1)}ms`);
for (const [k, v] of [...statuses.entries()].sort()) console.log(`  ${k}: ${v}`);
console.log(`abusive sockets closed by the server before the end: ${JSON.stringify(Object.fromEntries(closedEarly))}`);
console.log(`final rss=${rss().toFixed(0)}MiB`);
for (const s of sockets) s.destroy();
