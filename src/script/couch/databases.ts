import { forbidden } from '../../core/errors.js';
import { nowIso } from '../../core/time.js';
import { assertUnscoped, assertWritable, mayReadProject } from '../access/policy.js';
import { writeDocuments, type ScriptContext } from '../context.js';
import type { ScriptDb } from '../db.js';
import { keepHighWater } from '../documents/high-water.js';
import { liveProjects } from '../documents/writes.js';
import type { ScriptKey } from '../keys/repo.js';
import { couchError, noDatabase } from './errors.js';

// Every CouchDB database is a Dreamscript project, named by its ID or by its name when that name is a
// valid CouchDB database name.

export interface CouchDatabase {
  projectId: number;
  /** The name the client used. */
  name: string;
  revsLimit: number;
}

const DB_NAME = /^[a-z][a-z0-9_$()+/-]{0,237}$/;
const PROJECT_ID = /^[1-9][0-9]{0,15}$/;

export function assertDbName(name: string): void {
  if (PROJECT_ID.test(name) || DB_NAME.test(name)) return;
  throw couchError(
    400,
    'illegal_database_name',
    `Name: '${name}'. Only lowercase characters (a-z), digits (0-9), and any of the characters _, $, (, ), +, -, and / are allowed. Must begin with a letter (or be a project ID).`,
  );
}

/** The project a database name stands for, if the key may see it (403 otherwise, as the REST API says). */
export async function openDatabase(db: ScriptDb, key: ScriptKey, name: string): Promise<CouchDatabase> {
  assertDbName(name);
  let query = db.selectFrom('script_projects').select(['id', 'revs_limit']).where('deleted_at', 'is', null);
  query = PROJECT_ID.test(name) ? query.where('id', '=', Number(name)) : query.where('name', '=', name);
  const rows = await query.orderBy('id').limit(50).execute();
  if (rows.length === 0) throw noDatabase();
  const row = rows.find((r) => mayReadProject(key, r.id));
  if (!row) throw forbidden(`This API key may not access database ${name}.`);
  return { projectId: row.id, name, revsLimit: row.revs_limit };
}

/**
 * Inside a write transaction: the database was looked up before the write's turn came, and may have been deleted
 * since (DELETE /{db}, or the REST API's DELETE /projects/{id}); what is written now would live on in a deleted
 * project. A 404, as for a database that never was.
 */
export async function assertStillThere(trx: ScriptDb, target: CouchDatabase): Promise<void> {
  if (!(await liveProjects(trx, [target.projectId])).has(target.projectId)) throw noDatabase();
}

/** PUT /{db}: a new project named `name`; 412 while a live project has that name (or that ID). */
export async function createDatabase(sc: ScriptContext, key: ScriptKey, name: string): Promise<void> {
  assertDbName(name);
  assertWritable(key);
  assertUnscoped(key, 'create databases');
  const exists = () => couchError(412, 'file_exists', 'The database could not be created, the file already exists.');
  if (PROJECT_ID.test(name)) {
    // A project ID is handed out by the server: "creating" one that exists is the usual 412.
    const row = await sc.db.selectFrom('script_projects').select('id').where('id', '=', Number(name)).where('deleted_at', 'is', null).executeTakeFirst();
    if (row) throw exists();
    throw couchError(400, 'illegal_database_name', `Name: '${name}'. A new database needs a name that begins with a letter; numbers name existing projects.`);
  }
  await writeDocuments(sc, async (trx) => {
    const taken = await trx.selectFrom('script_projects').select('id').where('name', '=', name).where('deleted_at', 'is', null).executeTakeFirst();
    if (taken) throw exists();
    const now = nowIso();
    await trx.insertInto('script_projects').values({ name, description: null, created_at: now, updated_at: now }).execute();
  });
}

/**
 * DELETE /{db}: the project goes with all its documents, revisions, checkpoints and attachment
 * references (the blobs are left to `dreamlake gc`), as CouchDB deletes a database; its name is free again.
 */
export async function deleteDatabase(sc: ScriptContext, key: ScriptKey, name: string): Promise<void> {
  assertWritable(key);
  const target = await openDatabase(sc.db, key, name);
  await writeDocuments(sc, async (trx) => {
    const docs = trx.selectFrom('script_documents').select('id').where('project_id', '=', target.projectId);
    await keepHighWater(trx); // the newest IDs and seqs may go
    await trx.deleteFrom('script_attachment_refs').where('document_id', 'in', docs).execute();
    await trx.deleteFrom('script_revisions').where('document_id', 'in', docs).execute();
    await trx.deleteFrom('script_documents').where('project_id', '=', target.projectId).execute();
    await trx.deleteFrom('script_local_docs').where('project_id', '=', target.projectId).execute();
    await trx.updateTable('script_projects').set({ deleted_at: nowIso() }).where('id', '=', target.projectId).execute();
  });
}

// Replicators ask for the db info after every batch (PouchDB does), and counting a big database's documents
// each time would cost more than the batch: the counts are kept per project for as long as no document
// anywhere changed (the newest last_seq, read from its index, says so; every document write moves it) and the
// project's database was not purged (its purge_seq; a purge may remove documents and move no last_seq).
const infoCache = new WeakMap<ScriptDb, Map<number, { seq: number; purges: number; live: number; total: number; projectSeq: number }>>();

export async function databaseInfo(db: ScriptDb, target: CouchDatabase) {
  const newest = await db
    .selectFrom('script_documents')
    .select((eb) => [
      eb.fn.max('last_seq').as('seq'),
      eb.selectFrom('script_projects').select('purge_seq').where('id', '=', target.projectId).as('purges'),
      eb.selectFrom('script_projects').select('seq_floor').where('id', '=', target.projectId).as('floor'),
    ])
    .executeTakeFirst();
  const seqNow = Number(newest?.seq ?? 0);
  const purges = Number(newest?.purges ?? 0);
  const floor = Number(newest?.floor ?? 0);
  const cache = infoCache.get(db) ?? new Map();
  infoCache.set(db, cache);
  let counts = cache.get(target.projectId);
  if (!counts || counts.seq !== seqNow || counts.purges !== purges) {
    counts = { seq: seqNow, purges, ...(await countDocuments(db, target)) };
    if (cache.size > 1000) cache.clear();
    cache.set(target.projectId, counts);
  }
  const seq = String(Math.max(counts.projectSeq, floor));
  return {
    db_name: target.name,
    doc_count: counts.live,
    doc_del_count: counts.total - counts.live,
    update_seq: seq,
    purge_seq: String(counts.purges),
    compact_running: false,
    disk_format_version: 8,
    instance_start_time: '0',
    committed_update_seq: seq,
    sizes: { file: 0, external: 0, active: 0 },
    props: {},
  };
}

async function countDocuments(db: ScriptDb, target: CouchDatabase) {
  const row = await db
    .selectFrom('script_documents')
    .select((eb) => [
      eb.fn.countAll<number>().as('total'),
      eb.fn.sum<number>(eb.case().when('deleted', '=', 0).then(1).else(0).end()).as('live'),
      eb.fn.max('last_seq').as('seq'),
    ])
    .where('project_id', '=', target.projectId)
    .executeTakeFirst();
  return { live: Number(row?.live ?? 0), total: Number(row?.total ?? 0), projectSeq: Number(row?.seq ?? 0) };
}

/**
 * GET /_all_dbs: the names of the databases the key may see, sorted as CouchDB sorts them. A project goes by its
 * name when that is a valid database name that no older project the key sees has (openDatabase opens the oldest
 * of those), else by its ID: each name listed opens another database.
 */
export async function allDatabases(db: ScriptDb, key: ScriptKey): Promise<string[]> {
  if (key.projects?.length === 0) return [];
  let query = db.selectFrom('script_projects').select(['id', 'name']).where('deleted_at', 'is', null);
  if (key.projects) query = query.where('id', 'in', key.projects);
  const rows = await query.orderBy('id').limit(10_000).execute();
  const named = new Set<string>();
  const names = rows.map((r) => {
    if (!DB_NAME.test(r.name) || named.has(r.name)) return String(r.id);
    named.add(r.name);
    return r.name;
  });
  return names.sort();
}

export async function serverUuid(db: ScriptDb): Promise<string> {
  const row = await db.selectFrom('script_settings').select('value').where('name', '=', 'couch_uuid').executeTakeFirst();
  return row?.value ?? '00000000000000000000000000000000';
}
