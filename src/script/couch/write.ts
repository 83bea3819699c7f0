import { createHash, randomUUID } from 'node:crypto';
import { AppError } from '../../core/errors.js';
import { nowIso } from '../../core/time.js';
import { assertWritable } from '../access/policy.js';
import { writeDocuments, type ScriptContext } from '../context.js';
import type { ScriptDb } from '../db.js';
import { commitWrites, loadLeaves, loadRevision, loadTrees, type AttachmentMeta, type Attachments, type DocumentWrite, type NewRevision, parseAttachments } from '../documents/commit.js';
import type { DocumentRow } from '../documents/present.js';
import { REV } from '../documents/revs.js';
import { generationOf, pathFromRevisions, type Leaf } from '../documents/tree.js';
import type { ScriptKey } from '../keys/repo.js';
import { assertStillThere, type CouchDatabase } from './databases.js';
import { badRequest, couchError, illegalDocId, RESERVED_ID, updateConflict } from './errors.js';
import { bytes, findDocs } from './read.js';

// CouchDB writes (PUT, POST, DELETE, _bulk_docs) translated into revisions of the shared store
// (documents/commit.ts). new_edits:true makes the next revision of a leaf; new_edits:false (replicators)
// grafts the given revision and its _revisions path into the tree, as CouchDB does.

const SPECIAL = new Set(['_id', '_rev', '_deleted', '_attachments', '_revisions', '_conflicts', '_deleted_conflicts', '_revs_info', '_local_seq']);

/** Attachment data given inline, already stored in the blob store. */
interface InlineAttachment {
  stub: false;
  meta: Omit<AttachmentMeta, 'revpos'>;
  revpos?: number;
}
interface StubAttachment {
  stub: true;
  revpos?: number;
}

export interface CouchInput {
  id: string;
  rev?: string;
  /** new_edits:false: the revision and its ancestors, newest first. */
  path?: string[];
  deleted: boolean;
  body: Record<string, unknown>;
  attachments: Record<string, InlineAttachment | StubAttachment> | null;
}

export type WriteResult = { ok: true; id: string; rev: string } | { id?: string; rev?: string; error: string; reason: string };

/** A document id CouchDB would take (its couch_doc:validate_docid, with its reasons), at most 1,024 characters. */
export function validateDocId(id: unknown): string {
  if (typeof id !== 'string') throw illegalDocId('Document id must be a string');
  if (id === '') throw illegalDocId('Document id must not be empty');
  if (id === '_design/') throw illegalDocId('Illegal document id `_design/`');
  if (id.length > 1024) throw illegalDocId('Document id is too long');
  if (id.startsWith('_') && !id.startsWith('_design/')) throw illegalDocId(RESERVED_ID);
  return id;
}

/** A JSON array of revisions (open_revs, atts_since). */
export const isRevList = (v: unknown): v is string[] => Array.isArray(v) && v.every((r) => typeof r === 'string' && REV.test(r));

export function validateRev(rev: unknown): string {
  if (typeof rev !== 'string' || !REV.test(rev)) throw badRequest('Invalid rev format');
  return rev;
}

/** Checks one document's JSON and stores its inline attachments; nothing is written to the database. */
export async function parseDoc(sc: ScriptContext, raw: unknown, newEdits: boolean, id?: string): Promise<CouchInput> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw badRequest('Document must be a JSON object');
  const doc = raw as Record<string, unknown>;
  const docId = validateDocId(id ?? doc._id ?? randomUUID().replace(/-/g, ''));
  if (id !== undefined && doc._id !== undefined && doc._id !== id) throw badRequest('Document id in the URL and in the body disagree.');
  const rev = doc._rev === undefined ? undefined : validateRev(doc._rev);
  const body: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) {
    if (!k.startsWith('_')) body[k] = v;
    else if (!SPECIAL.has(k)) throw couchError(400, 'doc_validation', `Bad special document member: ${k}`);
  }
  const input: CouchInput = { id: docId, rev, deleted: doc._deleted === true, body, attachments: null };
  if (!newEdits) {
    if (!rev) throw badRequest('new_edits:false needs a _rev on every document.');
    if (doc._revisions !== undefined) {
      const path = pathFromRevisions(rev, doc._revisions);
      if (!path) throw badRequest('_revisions does not fit _rev.');
      input.path = path;
    } else input.path = [rev];
  }
  if (doc._attachments !== undefined && doc._attachments !== null) {
    if (typeof doc._attachments !== 'object' || Array.isArray(doc._attachments)) throw badRequest('_attachments must be an object.');
    input.attachments = Object.create(null) as NonNullable<CouchInput['attachments']>; // names are the client's: `__proto__` is one
    for (const [name, a] of Object.entries(doc._attachments as Record<string, unknown>)) {
      input.attachments[name] = await parseAttachment(sc, name, a);
    }
  }
  return input;
}

export function md5Digest(data: Buffer): string {
  return `md5-${createHash('md5').update(data).digest('base64')}`;
}

async function parseAttachment(sc: ScriptContext, name: string, raw: unknown): Promise<InlineAttachment | StubAttachment> {
  if (name === '' || name.startsWith('_')) throw badRequest(`Attachment name '${name}' may not be empty or start with an underscore.`);
  const a = raw as { stub?: unknown; data?: unknown; content_type?: unknown; digest?: unknown; revpos?: unknown };
  if (typeof a !== 'object' || a === null) throw badRequest(`Attachment ${name} must be an object.`);
  const revpos = Number.isSafeInteger(a.revpos) ? (a.revpos as number) : undefined;
  if (a.stub === true) return { stub: true, revpos };
  if (typeof a.data !== 'string' || !/^[A-Za-z0-9+/\r\n]*={0,2}\s*$/.test(a.data)) throw badRequest(`Invalid attachment data for ${name}`);
  const data = Buffer.from(a.data, 'base64');
  const digest = md5Digest(data);
  if (typeof a.digest === 'string' && a.digest !== digest) {
    throw couchError(400, 'content_md5_mismatch', `Attachment ${name}: its digest ${a.digest} does not match its data (${digest}).`);
  }
  const contentType = typeof a.content_type === 'string' && a.content_type ? a.content_type : 'application/octet-stream';
  const stored = await sc.blobs.put(bytes(data));
  return { stub: false, meta: { content_type: contentType, digest, length: data.length, sha256: stored.sha256 }, revpos };
}

function newRevId(generation: number, parent: string | null, input: CouchInput, atts: Attachments | null): string {
  const digests = atts ? Object.entries(atts).map(([n, a]) => [n, a.digest]) : null;
  const hash = createHash('md5').update(JSON.stringify([parent, input.deleted, input.body, digests])).digest('hex');
  return `${generation}-${hash}`;
}

function revision(rev: string, parent: string | null, input: CouchInput, attachments: Attachments | null): NewRevision {
  const title = typeof input.body.title === 'string' ? input.body.title : '';
  const content = typeof input.body.content === 'string' ? input.body.content : null;
  return { rev, parent, deleted: input.deleted, title, content, body: input.body, attachments, pruned: false };
}

const placeholder = (rev: string, parent: string | null): NewRevision => ({
  rev,
  parent,
  deleted: false,
  title: '',
  content: null,
  body: null,
  attachments: null,
  pruned: true,
});

/** Attachments of the new revision: inline ones as stored, stubs taken from `base` (the parent's). */
function resolveAttachments(input: CouchInput, base: Attachments | null, generation: number): Attachments | null {
  if (!input.attachments) return null;
  const out: Attachments = {};
  for (const [name, a] of Object.entries(input.attachments)) {
    if (a.stub) {
      const known = base?.[name];
      if (!known) throw couchError(412, 'missing_stub', `Invalid attachment stub in ${input.id} for ${name}`);
      out[name] = known;
    } else {
      out[name] = { ...a.meta, revpos: a.revpos ?? generation };
    }
  }
  return Object.keys(out).length ? out : null;
}

async function attachmentsOf(trx: ScriptDb, row: DocumentRow | undefined, rev: string | null): Promise<Attachments | null> {
  if (!row || rev === null) return null;
  if (rev === row.rev) return parseAttachments(row.attachments);
  return (await loadRevision(trx, row.id, rev))?.attachments ?? null;
}

const failure = (input: CouchInput, err: unknown): WriteResult => {
  if (!(err instanceof AppError)) throw err;
  const code = err.code === 'conflict' ? 'conflict' : err.code;
  return { id: input.id, error: code, reason: err.message };
};

/**
 * Writes documents into one database. Each item succeeds or fails alone (CouchDB's _bulk_docs); items
 * naming the same _id apply one after the other. With new_edits:false, successes are not reported.
 */
export async function writeCouchDocs(
  sc: ScriptContext,
  key: ScriptKey,
  target: CouchDatabase,
  inputs: (CouchInput | WriteResult)[],
  newEdits: boolean,
): Promise<WriteResult[]> {
  assertWritable(key);
  const results: (WriteResult | undefined)[] = inputs.map((i) => ('error' in i ? i : undefined));
  // Rounds in which each _id appears once.
  let pending = inputs.map((input, index) => ({ input, index })).filter((x): x is { input: CouchInput; index: number } => !('error' in x.input) && !('ok' in x.input));
  await writeDocuments(sc, async (trx) => {
    if (pending.length) await assertStillThere(trx, target);
    while (pending.length) {
      const seen = new Set<string>();
      const round: typeof pending = [];
      const later: typeof pending = [];
      for (const p of pending) {
        if (seen.has(p.input.id)) later.push(p);
        else {
          seen.add(p.input.id);
          round.push(p);
        }
      }
      pending = later;
      await writeRound(trx, target, round, newEdits, results);
    }
  });
  sc.plannerStats.wrote(target.projectId, inputs.length);
  return results.filter((r): r is WriteResult => r !== undefined);
}

async function writeRound(
  trx: ScriptDb,
  target: CouchDatabase,
  round: { input: CouchInput; index: number }[],
  newEdits: boolean,
  results: (WriteResult | undefined)[],
) {
  const docs = await findDocs(trx, target.projectId, round.map((r) => r.input.id));
  const branched = [...docs.values()].filter((d) => d.branches > 0).map((d) => d.id);
  const leaves = branched.length ? await loadLeaves(trx, branched) : new Map<number, Leaf[]>();
  // new_edits:false on a document whose current revision is not on the pushed path: look at its whole tree.
  const needTree = newEdits
    ? []
    : round.flatMap(({ input }) => {
        const row = docs.get(input.id);
        return row && (row.branches > 0 || !input.path!.includes(row.rev)) ? [row.id] : [];
      });
  const trees = needTree.length ? await loadTrees(trx, needTree) : new Map();

  const writes: DocumentWrite[] = [];
  const owners: { index: number; id: string; rev: string }[] = [];
  for (const { input, index } of round) {
    const row = docs.get(input.id);
    try {
      const docLeaves = row ? (row.branches > 0 ? leaves.get(row.id) ?? [] : [{ rev: row.rev, deleted: row.deleted === 1 }]) : [];
      let added: NewRevision[];
      if (newEdits) {
        let parent: string | null;
        if (input.rev !== undefined) {
          if (!docLeaves.some((l) => l.rev === input.rev)) throw updateConflict();
          parent = input.rev;
        } else {
          if (row && row.deleted === 0) throw updateConflict();
          parent = row ? row.rev : null;
        }
        const generation = parent === null ? 1 : generationOf(parent) + 1;
        const atts = resolveAttachments(input, await attachmentsOf(trx, row, parent), generation);
        added = [revision(newRevId(generation, parent, input, atts), parent, input, atts)];
      } else {
        const path = input.path!;
        let existing: Set<string>;
        if (!row) existing = new Set();
        else if (trees.has(row.id)) existing = new Set((trees.get(row.id) as { rev: string }[]).map((n) => n.rev));
        else existing = new Set(path.slice(path.indexOf(row.rev)));
        if (existing.has(path[0])) continue; // already there: nothing to do
        added = [];
        let base: string | null = null;
        for (let i = path.length - 1; i >= 0; i--) {
          if (existing.has(path[i])) {
            base = path[i];
            continue;
          }
          const parent = i + 1 < path.length ? path[i + 1] : null;
          if (i > 0) added.push(placeholder(path[i], parent));
          else {
            const atts = resolveAttachments(input, await attachmentsOf(trx, row, base), generationOf(path[0]));
            added.push(revision(path[0], parent, input, atts));
          }
        }
      }
      writes.push({ current: row, projectId: target.projectId, couchId: row ? row.couch_id : input.id, leaves: docLeaves, added, revsLimit: target.revsLimit });
      owners.push({ index, id: input.id, rev: added[added.length - 1].rev });
    } catch (err) {
      results[index] = failure(input, err);
    }
  }
  if (!writes.length) return;
  await commitWrites(trx, writes, nowIso());
  for (const o of owners) if (newEdits) results[o.index] = { ok: true, id: o.id, rev: o.rev };
}
