// Races mixed reads and writes on all three APIs against running servers, then checks invariants.
//   node --import tsx bench/race-audit.ts <phase: lake|script|space|all> <seconds> <url>[,<url2>…]
// Env: TOKEN (DreamLake JWT), SCRIPT_KEY (Dreamscript admin key), SPACE_TOKEN (Dreamspace token), CONC (workers).
// Requests go to the URLs in turn (two URLs = two replicas). Prints status tallies per route, every 5xx body,
// and each invariant that does not hold.

const [phase = 'all', secondsArg = '30', urlsArg = 'http://127.0.0.1:18440'] = process.argv.slice(2);
const urls = urlsArg.split(',');
const seconds = Number(secondsArg);
const conc = Number(process.env.CONC ?? 24);
const token = process.env.TOKEN ?? '';
const scriptKey = process.env.SCRIPT_KEY ?? '';
const spaceToken = process.env.SPACE_TOKEN ?? 'spacetok';

let turn = 0;
const tally = new Map<string, number>();
const errors: string[] = [];
const problems: string[] = [];

async function call(label: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}, url?: string) {
  const base = url ?? urls[turn++ % urls.length];
  let status = 0;
  let text = '';
  try {
    const res = await fetch(base + path, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    status = res.status;
    text = await res.text();
  } catch (e) {
    text = String((e as Error).cause ?? e);
  }
  const key = `${label} ${status}`;
  tally.set(key, (tally.get(key) ?? 0) + 1);
  if (status >= 500 || status === 0) errors.push(`${method} ${path} -> ${status} ${text.slice(0, 300)}`);
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* plain text */
  }
  return { status, json, text };
}

const pick = <T>(a: T[]): T => a[Math.floor(Math.random() * a.length)];

async function runFor(worker: () => Promise<void>) {
  const end = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (Date.now() < end) await worker();
    }),
  );
}

// ---------- DreamLake ----------
async function lake() {
  const auth = { authorization: `Bearer ${token}` };
  const slug = `race-${Date.now().toString(36)}`;
  console.log(`lake project ${slug}`);
  const p = await call('setup', 'POST', '/namespaces/alice/projects', { name: slug, slug }, auth);
  if (p.status !== 201) throw new Error(`project: ${p.status} ${p.text}`);
  const base = `/namespaces/alice/projects/${slug}`;
  const folders: string[] = [];
  for (const f of ['a', 'b', 'c']) folders.push((await call('setup', 'POST', `${base}/nodes`, { path: `/${f}`, kind: 'folder' }, auth)).json.id);
  await call('setup', 'POST', `${base}/collections`, { name: 'col' }, auth);
  const ids: string[] = [];
  const names = Array.from({ length: 30 }, (_, i) => `n${i}`);
  const small = 'hello';
  await runFor(async () => {
    const r = Math.random();
    if (r < 0.2) {
      const res = await call('create folder/episode', 'POST', `${base}/nodes`, { path: `/${pick(['a', 'b'])}/${pick(names)}`, kind: pick(['folder', 'episode']) }, auth);
      if (res.json?.id) ids.push(res.json.id);
    } else if (r < 0.3) {
      try {
        const up = await fetch(`${urls[turn++ % urls.length]}${base}/files/${pick(['a', 'b', 'c'])}/f${Math.floor(Math.random() * 20)}.txt`, {
          method: 'PUT',
          headers: { ...auth, 'content-type': 'text/plain' },
          body: small,
        });
        const t = await up.text();
        tally.set(`put file ${up.status}`, (tally.get(`put file ${up.status}`) ?? 0) + 1);
        if (up.status >= 500) errors.push(`PUT file -> ${up.status} ${t.slice(0, 300)}`);
        if (up.status < 300) ids.push(JSON.parse(t).id);
      } catch (e) {
        tally.set('put file 0', (tally.get('put file 0') ?? 0) + 1);
        errors.push(`PUT file -> 0 ${String((e as Error).cause ?? e)}`);
      }
    } else if (r < 0.4 && ids.length) {
      await call('rename', 'PATCH', `${base}/nodes/${pick(ids)}`, { name: pick(names) }, auth);
    } else if (r < 0.5 && ids.length) {
      await call('move', 'PATCH', `${base}/nodes/${pick(ids)}`, { parentId: pick([...folders, null, pick(ids)]) }, auth);
    } else if (r < 0.57 && ids.length) {
      await call('delete node', 'DELETE', `${base}/nodes/${pick(ids)}`, undefined, auth);
    } else if (r < 0.7 && ids.length) {
      await call('members add', 'POST', `${base}/collections/col/members`, { add: [pick(ids), pick(ids)] }, { ...auth, prefer: 'return=minimal' });
    } else if (r < 0.78 && ids.length) {
      await call('members remove', 'DELETE', `${base}/collections/col/members`, { remove: [pick(ids)] }, { ...auth, prefer: 'return=minimal' });
    } else if (r < 0.9) {
      await call('list children', 'GET', `${base}/nodes?parentId=${pick(folders)}&pageSize=200`, undefined, auth);
    } else {
      await call('get collection', 'GET', `${base}/collections/col`, undefined, auth);
    }
  });
  await checkLake(slug, folders[0]);
}

async function checkLake(slug: string, _first?: string) {
  const auth = { authorization: `Bearer ${token}` };
  const base = `/namespaces/alice/projects/${slug}`;
  // Invariants: every folder's total equals its listed children; sibling names unique among live nodes;
  // collection members are live files/episodes and their count matches the members route total.
  const all: any[] = [];
  const queue: (string | null)[] = [null];
  while (queue.length) {
    const parent = queue.shift()!;
    const kids: any[] = [];
    let total = -1;
    for (let page = 1; ; page++) {
      const q = parent ? `parentId=${parent}&` : '';
      const res = await call('check', 'GET', `${base}/nodes?${q}page=${page}&pageSize=200`, undefined, auth);
      total = res.json.total;
      kids.push(...res.json.nodes);
      if (page >= res.json.totalPages) break;
    }
    if (kids.length !== total) problems.push(`folder ${parent ?? '/'}: total ${total}, listed ${kids.length}`);
    const seen = new Set<string>();
    for (const k of kids) {
      if (seen.has(k.name)) problems.push(`folder ${parent ?? '/'}: duplicate live name ${k.name}`);
      seen.add(k.name);
      if ((k.parentId ?? null) !== parent) problems.push(`node ${k.id} listed under ${parent} has parentId ${k.parentId}`);
      const expectPath = `${parent ? (all.find((n) => n.id === parent)?.path ?? '?') : ''}/${k.name}`;
      if (parent && !expectPath.startsWith('?') && k.path !== expectPath) problems.push(`node ${k.id} path ${k.path}, expected ${expectPath}`);
      all.push(k);
      if (!k.leaf) queue.push(k.id);
    }
  }
  const live = new Map(all.map((n) => [n.id, n]));
  const col = await call('check', 'GET', `${base}/collections/col`, undefined, auth);
  const members: string[] = col.json.members;
  for (const m of members) {
    const n = live.get(m);
    if (!n) problems.push(`collection member ${m} is not a live node`);
    else if (n.kind === 'folder') problems.push(`collection member ${m} is a folder`);
  }
  if (new Set(members).size !== members.length) problems.push('collection has duplicate members');
  const probe = await call('check', 'DELETE', `${base}/collections/col/members`, { remove: ['nonexistent'] }, { ...auth, prefer: 'return=minimal' });
  if (probe.json.total !== members.length) problems.push(`collection total ${probe.json.total} != members ${members.length}`);
  console.log(`lake: ${all.length} live nodes, ${members.length} members`);
}

// ---------- Dreamscript ----------
async function script() {
  const auth = { 'x-api-key': scriptKey };
  const d = await call('setup', 'POST', '/dreamscript/documents', { title: 'race', content: '0' }, auth);
  const id = d.json.id;
  let withRevOk = 0;
  await runFor(async () => {
    const r = Math.random();
    if (r < 0.3) {
      await call('put no rev', 'PUT', `/dreamscript/documents/${id}`, { title: 'race', content: String(Math.random()) }, auth);
    } else if (r < 0.6) {
      const g = await call('get', 'GET', `/dreamscript/documents/${id}`, undefined, auth);
      if (g.json?._rev) {
        const u = await call('patch with rev', 'PATCH', `/dreamscript/documents/${id}`, { content: String(Math.random()), _rev: g.json._rev }, auth);
        if (u.status === 200) withRevOk++;
      }
    } else if (r < 0.7) {
      await call('patch no rev', 'PATCH', `/dreamscript/documents/${id}`, { title: `t${Math.random()}` }, auth);
    } else if (r < 0.8) {
      await call('revisions', 'GET', `/dreamscript/documents/${id}/revisions`, undefined, auth);
    } else {
      await call('changes', 'GET', `/dreamscript/changes?since=0&limit=1000`, undefined, auth);
    }
  });
  const final = await call('check', 'GET', `/dreamscript/documents/${id}`, undefined, auth);
  const okWrites = [...tally.entries()].filter(([k]) => /^(put no rev|patch with rev|patch no rev) 200$/.test(k)).reduce((s, [, v]) => s + v, 0);
  const gen = Number(String(final.json._rev).split('-')[0]);
  if (gen !== okWrites + 1) problems.push(`document rev generation ${gen}, acknowledged writes ${okWrites} (+1 create)`);
  console.log(`script: final rev ${final.json._rev}, ${okWrites} acknowledged writes (${withRevOk} with _rev)`);
}

// ---------- Dreamspace ----------
async function space() {
  const auth = { 'x-api-key': spaceToken };
  const twitch = `tw-${Date.now()}`;
  const u = await call('setup', 'POST', '/dreamspace/users', { twitch_id: twitch, name: 'racer' }, auth);
  const userId = u.json.user_id;
  let sum = 0;
  let count = 0;
  const userIds = new Set<number>([userId]);
  const twitch2 = `tw2-${Date.now()}`;
  await runFor(async () => {
    const r = Math.random();
    if (r < 0.45) {
      const amount = Math.floor(Math.random() * 200) - 100;
      const t = await call('transaction', 'POST', `/dreamspace/users/${userId}/transactions`, { amount, description: 'race' }, auth);
      if (t.status === 200) {
        sum += amount;
        count++;
      }
    } else if (r < 0.75) {
      const x = await call('post user same twitch', 'POST', '/dreamspace/users', { twitch_id: pick([twitch, twitch2]), name: `n${Math.floor(Math.random() * 9)}` }, auth);
      if (x.json?.user_id) userIds.add(x.json.user_id);
    } else if (r < 0.9) {
      await call('get user', 'GET', `/dreamspace/users/${userId}`, undefined, auth);
    } else {
      await call('list tx', 'GET', `/dreamspace/users/${userId}/transactions?limit=1000`, undefined, auth);
    }
  });
  const final = await call('check', 'GET', `/dreamspace/users/${userId}`, undefined, auth);
  if (final.json.wallet !== sum) problems.push(`wallet ${final.json.wallet}, acknowledged sum ${sum}`);
  let listed = 0;
  let after = '';
  for (;;) {
    const l = await call('check', 'GET', `/dreamspace/users/${userId}/transactions?limit=1000${after}`, undefined, auth);
    const items = Array.isArray(l.json) ? l.json : (l.json?.items ?? l.json?.transactions ?? []);
    listed += items.length;
    if (items.length < 1000) break;
    after = `&after=${items[items.length - 1].transaction_id}`;
  }
  if (listed !== count + 0) problems.push(`transactions listed ${listed}, acknowledged ${count}`);
  for (const tw of [twitch, twitch2]) {
    const l = await call('check', 'GET', `/dreamspace/users?twitch_id=${tw}`, undefined, auth);
    const items = Array.isArray(l.json) ? l.json : [];
    if (items.length !== 1) problems.push(`twitch_id ${tw}: ${items.length} users`);
  }
  console.log(`space: wallet ${final.json.wallet}, ${count} transactions, distinct user ids seen ${userIds.size}`);
}

const phases: Record<string, () => Promise<void>> = { lake, script, space, lakecheck: () => checkLake(process.env.SLUG ?? '') };
for (const name of phase === 'all' ? ['lake', 'script', 'space'] : phase.split('+')) {
  const t0 = Date.now();
  await phases[name]();
  console.log(`${name} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
const total = [...tally.values()].reduce((a, b) => a + b, 0);
console.log(`requests: ${total}`);
for (const [k, v] of [...tally.entries()].sort()) console.log(`  ${k}: ${v}`);
console.log(`5xx/network errors: ${errors.length}`);
for (const e of errors.slice(0, 20)) console.log(`  ${e}`);
console.log(`invariant problems: ${problems.length}`);
for (const p of problems.slice(0, 50)) console.log(`  ${p}`);
