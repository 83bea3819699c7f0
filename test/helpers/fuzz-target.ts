import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { Database } from '../../src/core/db/database.js';
import { scriptDb } from '../../src/script/db.js';
import { createKey } from '../../src/script/keys/repo.js';
import type { FuzzSetup, FuzzTarget } from './fuzz.js';
import { COUCH, type CouchFuzzSetup, type CouchFuzzTarget } from './fuzz-couch.js';

/** What the fuzz target needs of an app (a TestApp has it; bench/fuzz.ts builds one by hand). */
export interface FuzzApp {
  database: Database;
  auth(username: string): Promise<Record<string, string>>;
  inject(options: InjectOptions): Promise<LightMyRequestResponse>;
}

/** Builds the fuzz target on a test app: data the valid parameter values name, re-created now and then. */
export async function fuzzTarget(t: FuzzApp, SPACE_KEY: string): Promise<FuzzTarget> {
  const alice = await t.auth('alice');
  await t.inject({ method: 'GET', url: '/auth/me', headers: await t.auth('bob') });
  const admin = (await createKey(scriptDb(t.database), { admin: true })).secret;
  const json = async (method: string, url: string, headers: Record<string, string>, payload?: unknown) => {
    const res = await t.inject({ method: method as 'POST', url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
    return res.statusCode < 300 && res.body ? (res.json() as Record<string, unknown>) : undefined;
  };
  const openapi = (await t.inject({ method: 'GET', url: '/openapi.json' })).json();

  const setup = async (): Promise<FuzzSetup> => {
    const known: Record<string, string[]> = {
      'lake:slug': ['alice', 'org1'],
      'lake:projectSlug': ['lab'],
      'lake:name': ['train', 'clips', 'ep1'],
      'lake:username': ['bob', 'alice'],
      'lake:*': ['a/b.txt', 'ep/c.bin'],
      'lake:id': [],
    };
    await json('POST', '/namespaces', alice, { slug: 'org1' });
    for (const ns of ['alice', 'org1']) {
      const base = `/namespaces/${ns}/projects/lab`;
      await json('POST', `/namespaces/${ns}/projects`, alice, { name: 'Lab' });
      await json('POST', `${base}/datasets`, alice, { name: 'train' });
      await json('POST', `${base}/collections`, alice, { name: 'clips' });
      await json('POST', `${base}/episodes`, alice, { name: 'ep1' });
      const folder = await json('POST', `${base}/nodes`, alice, { path: '/f/g', kind: 'folder' });
      const file = await t.inject({ method: 'PUT', url: `${base}/files/a/b.txt`, headers: { ...alice, 'content-type': 'text/plain' }, payload: 'hello' });
      if (folder?.id) known['lake:id'].push(String(folder.id));
      if (file.statusCode < 300) known['lake:id'].push(String(file.json().id));
    }

    const scriptHeaders = { 'x-api-key': admin };
    const project = await json('POST', '/dreamscript/projects', scriptHeaders, { name: 'p' });
    const doc = await json('POST', '/dreamscript/documents', scriptHeaders, { title: 't', content: 'c', projectId: project?.id ?? null });
    const victim = await createKey(scriptDb(t.database), { name: 'victim' });
    known['script:projectId'] = [String(project?.id ?? 1)];
    known['script:documentId'] = [String(doc?.id ?? 1)];
    known['script:keyId'] = [String(victim.key.id)];

    const space = { 'x-api-key': SPACE_KEY };
    const user = await json('POST', '/dreamspace/users', space, { twitch_id: `fz-${Math.random()}`, name: 'fuzz' });
    const uid = Number(user?.user_id ?? 1);
    const tx = await json('POST', '/dreamspace/transactions', space, { user_id: uid, amount: 3, description: 'd' });
    const specimen = await json('POST', '/dreamspace/specimens', space, { owner_id: uid });
    const document = await json('POST', '/dreamspace/documents', space, { document_data: 'AAAA', seal: 1, stamps: [{ stamp_type: 's', pos_x: 0, pos_y: 0 }] });
    const event = await json('POST', '/dreamspace/events', space, { event_type: 'plain', message: 'm', occurred_at: '2025-01-01T00:00:00Z', user_id: uid, document_id: document?.document_id ?? null });
    const stampId = String((document?.stamps as { stamp_id: number }[] | undefined)?.[0]?.stamp_id ?? 1);
    const ids = [uid, tx?.transaction_id, specimen?.specimen_id, document?.document_id, event?.event_id].filter((x) => x !== undefined).map(String);
    known['space:id'] = ids;
    known['space:transaction_id'] = [String(tx?.transaction_id ?? 1)];
    known['space:specimen_id'] = [String(specimen?.specimen_id ?? 1)];
    known['space:event_id'] = [String(event?.event_id ?? 1)];
    known['space:stamp_id'] = [stampId];
    return { known, auth: { lake: alice, script: scriptHeaders, space } };
  };

  return {
    openapi,
    setup,
    async send(request) {
      const res = await t.inject({ method: request.method as 'GET', url: request.url, headers: request.headers, payload: request.payload });
      return { statusCode: res.statusCode, body: res.body };
    },
  };
}


/** The CouchDB fuzz target on a test app: two databases, documents with attachments, keys of each kind. */
export async function couchFuzzTarget(t: FuzzApp): Promise<CouchFuzzTarget> {
  const db = scriptDb(t.database);
  const admin = (await createKey(db, { admin: true })).secret;
  const readOnly = (await createKey(db, { readOnly: true })).secret;
  const headers = { 'x-api-key': admin, 'content-type': 'application/json' };
  const couch = async (method: string, path: string, payload?: unknown, contentType = 'application/json') => {
    const body = typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : payload === undefined ? undefined : JSON.stringify(payload);
    const res = await t.inject({ method: method as 'PUT', url: `${COUCH}${path}`, headers: { ...headers, 'content-type': contentType }, payload: body });
    return res.statusCode < 300 ? (res.json() as { rev?: string }) : undefined;
  };
  let round = 0;
  let scoped: string | undefined;

  const setup = async (): Promise<CouchFuzzSetup> => {
    round++;
    for (const name of ['fuzzdb', 'otherdb']) await couch('PUT', `/${name}`);
    const projects = await db.selectFrom('script_projects').select(['id', 'name']).where('deleted_at', 'is', null).where('name', 'in', ['fuzzdb', 'otherdb']).execute();
    const idOf = (name: string) => projects.find((p) => p.name === name)?.id;
    const other = idOf('otherdb');
    if (!scoped && other !== undefined) scoped = (await createKey(db, { projects: [other] })).secret;
    const docIds = [`doc-${round}-a`, `doc-${round}-b`, `${round}`];
    const revs: string[] = [];
    for (const id of docIds) {
      const put = await couch('PUT', `/fuzzdb/${id}`, { title: id, content: 'c', n: round });
      if (put?.rev) revs.push(put.rev);
    }
    const withAtt = await couch('PUT', `/fuzzdb/${docIds[0]}/a.txt?rev=${revs[0]}`, 'hello', 'text/plain');
    if (withAtt?.rev) revs.push(withAtt.rev);
    const design = await couch('PUT', `/fuzzdb/_design/app${round}`, { views: {}, language: 'javascript' });
    if (design?.rev) revs.push(design.rev);
    await couch('PUT', `/fuzzdb/_local/ckpt${round}`, { last_seq: '1' });
    return {
      dbs: ['fuzzdb', 'otherdb', ...[idOf('fuzzdb'), other].filter((x) => x !== undefined).map(String)],
      docIds,
      designIds: [`_design/app${round}`],
      localIds: [`ckpt${round}`],
      attachments: ['a.txt'],
      revs,
      keys: [admin, admin, readOnly, ...(scoped ? [scoped] : [])],
    };
  };

  return {
    setup,
    async send(request) {
      const res = await t.inject({ method: request.method as 'GET', url: request.url, headers: request.headers, payload: request.payload });
      return { statusCode: res.statusCode, body: res.body };
    },
  };
}
