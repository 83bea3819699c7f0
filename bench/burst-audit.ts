// Fires N identical "create" requests at once (the same new key each round) and checks one thing came of it.
//   node --import tsx bench/burst-audit.ts <url>[,<url2>] [rounds] [width]
// Env: JWT_SECRET signs fresh user tokens; SCRIPT_KEY; SPACE_TOKEN.
import { signToken } from '../src/core/auth/jwt.js';

const [urlsArg = 'http://127.0.0.1:18440', roundsArg = '10', widthArg = '40'] = process.argv.slice(2);
const urls = urlsArg.split(',');
const rounds = Number(roundsArg);
const width = Number(widthArg);
const secret = process.env.DREAMLAKE_JWT_SECRET ?? '';
const spaceToken = process.env.SPACE_TOKEN ?? 'spacetok';
const scriptKey = process.env.SCRIPT_KEY ?? '';
const tag = Date.now().toString(36);
const tally = new Map<string, number>();
const problems: string[] = [];

async function burst(label: string, make: (i: number) => { path: string; method: string; body?: unknown; headers: Record<string, string>; raw?: string }) {
  return Promise.all(
    Array.from({ length: width }, async (_, i) => {
      const r = make(i);
      const base = urls[i % urls.length];
      try {
        const res = await fetch(base + r.path, {
          method: r.method,
          headers: { ...(r.body !== undefined ? { 'content-type': 'application/json' } : {}), ...r.headers },
          body: r.raw ?? (r.body !== undefined ? JSON.stringify(r.body) : undefined),
        });
        const text = await res.text();
        const k = `${label} ${res.status}`;
        tally.set(k, (tally.get(k) ?? 0) + 1);
        if (res.status >= 500) problems.push(`${label}: ${res.status} ${text.slice(0, 300)}`);
        try {
          return { status: res.status, json: JSON.parse(text) };
        } catch {
          return { status: res.status, json: null };
        }
      } catch (e) {
        problems.push(`${label}: network ${String((e as Error).cause ?? e)}`);
        return { status: 0, json: null };
      }
    }),
  );
}

for (let round = 0; round < rounds; round++) {
  // A brand-new user's first requests, all at once (user and namespace created on first sight).
  const user = `u${tag}r${round}`;
  const tok = await signToken(secret, user, 1);
  const auth = { authorization: `Bearer ${tok}` };
  const me = await burst('first /auth/me', () => ({ path: '/auth/me', method: 'GET', headers: auth }));
  const meIds = new Set(me.filter((x) => x.status === 200).map((x) => x.json.id));
  if (meIds.size !== 1) problems.push(`new user ${user}: ${meIds.size} distinct ids`);
  // The same project slug created at once.
  const proj = await burst('create project same slug', () => ({ path: `/namespaces/${user}/projects`, method: 'POST', body: { name: 'p', slug: 'p' }, headers: auth }));
  if (proj.filter((x) => x.status === 201).length !== 1) problems.push(`project: ${proj.filter((x) => x.status === 201).length} created`);
  // The same namespace slug.
  const ns = await burst('create namespace same slug', () => ({ path: '/namespaces', method: 'POST', body: { slug: `org-${user}` }, headers: auth }));
  if (ns.filter((x) => x.status === 201).length !== 1) problems.push(`namespace: ${ns.filter((x) => x.status === 201).length} created`);
  // mkdir -p of the same deep path, and the same file PUT.
  const base = `/namespaces/${user}/projects/p`;
  const mk = await burst('mkdir same path', () => ({ path: `${base}/nodes`, method: 'POST', body: { path: '/x/y/z', kind: 'folder' }, headers: auth }));
  if (new Set(mk.filter((x) => x.json?.id).map((x) => x.json.id)).size !== 1) problems.push('mkdir: several ids');
  const put = await burst('put same file', (i) => ({ path: `${base}/files/x/y/f.txt`, method: 'PUT', headers: { ...auth, 'content-type': 'text/plain' }, raw: `v${i % 3}` }));
  void put;
  const list = await fetch(`${urls[0]}${base}/nodes/lookup?path=/x/y`, { headers: auth });
  const y = (await list.json()) as { id: string };
  const kids = await fetch(`${urls[0]}${base}/nodes?parentId=${y.id}&pageSize=200`, { headers: auth });
  const kj = (await kids.json()) as { nodes: { name: string }[]; total: number };
  if (kj.total !== kj.nodes.length || kj.nodes.length !== 2) problems.push(`/x/y: total ${kj.total}, nodes ${kj.nodes.map((n) => n.name)}`);
  // The same episode name, and the same collection name.
  await burst('create episode same name', () => ({ path: `${base}/episodes`, method: 'POST', body: { name: 'ep' }, headers: auth }));
  const col = await burst('create collection same name', () => ({ path: `${base}/collections`, method: 'POST', body: { name: 'c' }, headers: auth }));
  if (col.filter((x) => x.status === 201).length !== 1) problems.push(`collection: ${col.filter((x) => x.status === 201).length} created`);
  await burst('create dataset same name', () => ({ path: `${base}/datasets`, method: 'POST', body: { name: 'd' }, headers: auth }));
  // Dreamspace: the same new twitch_id posted at once.
  const tw = `tw-${tag}-${round}`;
  const su = await burst('space user same twitch', (i) => ({ path: '/dreamspace/users', method: 'POST', body: { twitch_id: tw, name: `n${i}` }, headers: { 'x-api-key': spaceToken } }));
  const suIds = new Set(su.filter((x) => x.status === 200).map((x) => x.json.user_id));
  if (suIds.size !== 1) problems.push(`twitch ${tw}: ${suIds.size} user ids`);
  // Dreamscript: the same project name (names may or may not be unique; 5xx is what matters).
  if (scriptKey) await burst('script project same name', () => ({ path: '/dreamscript/projects', method: 'POST', body: { name: `sp-${tag}-${round}` }, headers: { 'x-api-key': scriptKey } }));
}
for (const [k, v] of [...tally.entries()].sort()) console.log(`  ${k}: ${v}`);
console.log(`problems: ${problems.length}`);
for (const p of [...new Set(problems)].slice(0, 30)) console.log(`  ${p}`);
