import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { etagListNames } from '../../core/etag.js';
import { otherMethods } from '../../core/http.js';
import { decideRange, UPLOADED_CONTENT_HEADERS } from '../../core/range.js';
import { assertWritable } from '../access/policy.js';
import type { ScriptContext } from '../context.js';
import { loadLeaves, loadTrees, type NewRevision } from '../documents/commit.js';
import { latestFrom, leavesOf, sortLeaves, type RevNode } from '../documents/tree.js';
import type { CouchDatabase } from './databases.js';
import { badRequest, couchError, isDocumentRoute, methodNotAllowed, missing, notSupported, unknownUnderscore, updateConflict } from './errors.js';
import { boundedJson, dbOf, documentBody, flag, jsonParam, throwIfFailed, type DbParams, type Query } from './http.js';
import { deleteLocalDoc, readLocalDoc, writeLocalDoc } from './local-docs.js';
import { attsSinceGeneration, documentFromMultipart, documentMultipart, inlineFollows, isMultipartRelated, markFollows, openRevsMultipart, wantsMultipart, type MultipartRevision } from './multipart.js';
import { bodyOf, bytes, findDoc, loadRevisions, presentDoc, revisionAt, revisionFrom, revsInfoOf, winnerOfRow, type PresentOptions } from './read.js';
import { isRevList, md5Digest, parseDoc, validateRev, writeCouchDocs, type CouchInput } from './write.js';

type DocParams = DbParams & { docid: string; '*'?: string; ddoc?: string };

const DESIGN_HANDLERS = new Set(['_view', '_show', '_list', '_update', '_rewrite', '_search', '_search_info', '_info', '_spatial', '_nouveau']);

/** Documents, design documents, _local checkpoints and attachments. */
export const documentRoutes: FastifyPluginAsync<{ sc: ScriptContext }> = async (app, { sc }) => {
  const idOf = (request: FastifyRequest) => {
    const p = request.params as DocParams;
    if (p.ddoc !== undefined) return `_design/${p.ddoc}`;
    if (p.docid.startsWith('_') && !p.docid.startsWith('_design/')) {
      // `/{db}/_all_docs` and its kind reach these routes by any method they lack: CouchDB's 405 names theirs.
      const allow = otherMethods(request, isDocumentRoute);
      if (allow.length) throw methodNotAllowed(allow);
      throw unknownUnderscore(request.method, p.docid);
    }
    return p.docid;
  };

  // Documents (and, with the same handlers, design documents).
  for (const base of ['/:db/:docid', '/:db/_design/:ddoc']) {
    app.get(base, async (request, reply) => {
      const { target } = await dbOf(sc, request);
      const answer = await readDoc(sc, target, idOf(request), request.query as Query, request.headers.accept);
      if ('multipart' in answer) return reply.type(answer.multipart.contentType).send(answer.multipart.stream);
      // One revision: its rev as the ETag, which clients read from a HEAD to learn the current revision.
      const rev = (answer.json as { _rev?: unknown })._rev;
      if (typeof rev === 'string') {
        reply.header('etag', `"${rev}"`);
        if (etagListNames(request.headers['if-none-match'], rev)) return reply.status(304).send();
      }
      return reply.send(answer.json);
    });
    app.put(base, async (request, reply) => {
      const { key, target } = await dbOf(sc, request);
      const id = idOf(request);
      const q = request.query as Query;
      const newEdits = q.new_edits !== 'false';
      const contentType = request.headers['content-type'];
      const body = isMultipartRelated(contentType) ? documentFromMultipart(contentType, Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)) : documentBody(request);
      const rev = q.rev ?? ifMatch(request);
      if (rev !== undefined && body._rev === undefined) body._rev = rev;
      else if (rev !== undefined && body._rev !== rev) throw badRequest('Document rev from the request body and query string have different values');
      const input = await parseDoc(sc, body, newEdits, id);
      const [result] = await writeCouchDocs(sc, key, target, [input], newEdits);
      if (!newEdits) return reply.status(201).send({ ok: true, id: input.id, rev: input.rev });
      throwIfFailed(result);
      if (q.batch === 'ok') return reply.status(202).send(batched(result));
      return reply.status(201).header('etag', `"${result.rev}"`).send(result);
    });
    app.delete(base, async (request, reply) => {
      const { key, target } = await dbOf(sc, request);
      assertWritable(key);
      const id = idOf(request);
      const rev = (request.query as Query).rev ?? ifMatch(request);
      const row = await findDoc(sc.db, target.projectId, id);
      if (!row) throw missing();
      if (rev === undefined) throw updateConflict();
      const [result] = await writeCouchDocs(sc, key, target, [{ id, rev: validateRev(rev), deleted: true, body: {}, attachments: null }], true);
      throwIfFailed(result);
      return reply.header('etag', `"${result.rev}"`).send(result);
    });
  }

  app.post<{ Params: DbParams }>('/:db', async (request, reply) => {
    const { key, target } = await dbOf(sc, request);
    const input = await parseDoc(sc, documentBody(request), true);
    const [result] = await writeCouchDocs(sc, key, target, [input], true);
    throwIfFailed(result);
    if ((request.query as Query).batch === 'ok') return reply.status(202).send(batched(result));
    return reply.status(201).header('etag', `"${result.rev}"`).send(result);
  });

  // Attachments (of documents and design documents); the handlers of design documents answer an error.
  for (const base of ['/:db/:docid/*', '/:db/_design/:ddoc/*']) {
    app.get(base, async (request, reply) => {
      const { target } = await dbOf(sc, request);
      const name = attachmentName(request);
      const row = await findDoc(sc.db, target.projectId, idOf(request));
      if (!row) throw missing();
      const q = request.query as Query;
      const rev = q.rev === undefined ? (row.deleted ? null : winnerOfRow(row)) : await revisionAt(sc.db, row, validateRev(q.rev));
      if (!rev) throw missing(row.deleted ? 'deleted' : 'missing');
      const att = rev.attachments && Object.hasOwn(rev.attachments, name) ? rev.attachments[name] : undefined;
      if (!att) throw missing('Document is missing attachment');
      const etag = `"${att.digest}"`;
      reply.type(att.content_type).headers({ etag, 'accept-ranges': 'bytes', ...UPLOADED_CONTENT_HEADERS });
      if (etagListNames(request.headers['if-none-match'], att.digest)) return reply.status(304).send();
      // A single range, as CouchDB serves one of an attachment stored as sent (If-Range naming another version: all).
      const ifRange = request.headers['if-range'];
      const range = typeof ifRange !== 'string' || ifRange.trim() === etag ? decideRange(request.headers.range, att.length) : null;
      if (range === 'unsatisfiable') {
        reply.header('content-range', `bytes */${att.length}`);
        throw couchError(416, 'requested_range_not_satisfiable', 'Requested range not satisfiable');
      }
      if (range) reply.status(206).header('content-range', `bytes ${range.start}-${range.end}/${att.length}`);
      else reply.header('content-md5', att.digest.slice(4));
      reply.header('content-length', range ? range.end - range.start + 1 : att.length);
      return reply.send(await sc.blobs.get(att.sha256, range ?? undefined));
    });
    app.put(base, async (request, reply) => {
      const { key, target } = await dbOf(sc, request);
      assertWritable(key);
      const name = attachmentName(request);
      const id = idOf(request);
      const rev = (request.query as Query).rev ?? ifMatch(request);
      const data = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const row = await findDoc(sc.db, target.projectId, id);
      const base = rev === undefined ? null : row ? await revisionAt(sc.db, row, validateRev(rev)) : null;
      if (rev !== undefined && !base) throw updateConflict();
      if (rev === undefined && row && !row.deleted) throw updateConflict();
      const stored = await sc.blobs.put(bytes(data));
      const input: CouchInput = {
        id,
        rev,
        deleted: false,
        body: base ? bodyOf(base) : {},
        attachments: {
          ...Object.fromEntries(Object.keys(base?.attachments ?? {}).map((n) => [n, { stub: true as const }])),
          [name]: {
            stub: false,
            meta: { content_type: String(request.headers['content-type'] ?? 'application/octet-stream'), digest: md5Digest(data), length: data.length, sha256: stored.sha256 },
          },
        },
      };
      const [result] = await writeCouchDocs(sc, key, target, [input], true);
      throwIfFailed(result);
      return reply.status(201).header('etag', `"${result.rev}"`).send(result);
    });
    app.delete(base, async (request, reply) => {
      const { key, target } = await dbOf(sc, request);
      assertWritable(key);
      const name = attachmentName(request);
      const id = idOf(request);
      const rev = (request.query as Query).rev ?? ifMatch(request);
      if (rev === undefined) throw updateConflict();
      const row = await findDoc(sc.db, target.projectId, id);
      if (!row) throw missing();
      const base = await revisionAt(sc.db, row, validateRev(rev));
      if (!base) throw updateConflict();
      if (!base.attachments || !Object.hasOwn(base.attachments, name)) throw missing('Document is missing attachment');
      const rest = Object.keys(base.attachments).filter((n) => n !== name);
      const input: CouchInput = {
        id,
        rev,
        deleted: false,
        body: bodyOf(base),
        attachments: rest.length ? Object.fromEntries(rest.map((n) => [n, { stub: true as const }])) : null,
      };
      const [result] = await writeCouchDocs(sc, key, target, [input], true);
      throwIfFailed(result);
      return reply.send(result);
    });
  }

  // _local documents: checkpoints, never replicated and not in _changes.
  const localParams = (request: FastifyRequest) => (request.params as DbParams & { '*': string })['*'];
  app.get('/:db/_local/*', async (request) => {
    const { target } = await dbOf(sc, request);
    return readLocalDoc(sc.db, target.projectId, localParams(request));
  });
  app.put('/:db/_local/*', async (request, reply) => {
    const { key, target } = await dbOf(sc, request);
    assertWritable(key);
    const id = localParams(request);
    if (!id) throw badRequest('A _local document needs an id.');
    const { _id, _rev, ...fields } = documentBody(request);
    if (_id !== undefined && _id !== `_local/${id}`) throw badRequest('Document id in the URL and in the body disagree.');
    const rev = await writeLocalDoc(sc.db, target.projectId, id, _rev === undefined ? undefined : String(_rev), fields);
    return reply.status(201).send({ ok: true, id: `_local/${id}`, rev });
  });
  app.delete('/:db/_local/*', async (request) => {
    const { key, target } = await dbOf(sc, request);
    assertWritable(key);
    const id = localParams(request);
    await deleteLocalDoc(sc.db, target.projectId, id);
    return { ok: true, id: `_local/${id}`, rev: '0-0' };
  });
};

/**
 * CouchDB's answer to a `batch=ok` write, which it stores later: 202 and no rev. This server has stored it already
 * (a conflict is still a 409), but a client of batch mode reads this answer.
 */
function batched(result: { id: string }) {
  return { ok: true, id: result.id };
}

function ifMatch(request: FastifyRequest): string | undefined {
  const h = request.headers['if-match'];
  return typeof h === 'string' ? h.replace(/^"(.*)"$/, '$1') : undefined;
}

function attachmentName(request: FastifyRequest): string {
  const name = (request.params as DocParams)['*'] ?? '';
  const first = name.split('/')[0];
  if ((request.params as DocParams).ddoc !== undefined && DESIGN_HANDLERS.has(first)) throw notSupported(`${first}`);
  if (name === '') throw badRequest('Attachment name is missing.');
  return name;
}

/** `atts_since`: a JSON array of revisions the client has (their attachments are not sent again). */
function attsSinceOf(q: Query): string[] | undefined {
  const v = jsonParam(q, 'atts_since');
  if (v === undefined) return undefined;
  if (!isRevList(v)) throw badRequest('atts_since must be a JSON array of revisions.');
  return v;
}

type DocAnswer = { json: unknown } | { multipart: { contentType: string; stream: NodeJS.ReadableStream } };

/**
 * GET /{db}/{docid} with CouchDB's options: rev, revs, revs_info, open_revs, conflicts, deleted_conflicts, meta,
 * latest, attachments, atts_since; as JSON, or as multipart (attachments following the JSON) when the client accepts
 * it, as CouchDB's replicator does.
 */
async function readDoc(sc: ScriptContext, target: CouchDatabase, id: string, q: Query, accept: unknown): Promise<DocAnswer> {
  const row = await findDoc(sc.db, target.projectId, id);
  if (!row) throw missing();
  const revs = flag(q.revs);
  const attsSince = attsSinceOf(q);
  const attachments = flag(q.attachments) || attsSince !== undefined;
  // One revision as answered: stubs, with the attachments the client lacks marked `follows` (multipart) or inline.
  const present = async (r: NewRevision, tree: RevNode[] | undefined, multipart: boolean, more: Partial<PresentOptions> = {}): Promise<MultipartRevision> => {
    const doc = await presentDoc(sc.blobs, id, r, { tree, revs, ...more });
    const follows = multipart || attachments ? markFollows(doc, r.attachments, attsSinceGeneration(tree, r.rev, attsSince)) : [];
    if (!multipart) await inlineFollows(doc, follows, sc.blobs);
    return { doc, follows: multipart ? follows : [] };
  };

  if (q.open_revs !== undefined) {
    const tree = (await loadTrees(sc.db, [row.id])).get(row.id) ?? [];
    let wanted: string[];
    if (q.open_revs === 'all') wanted = sortLeaves(leavesOf(tree)).map((l) => l.rev);
    else {
      let parsed: unknown;
      try {
        boundedJson(q.open_revs);
        parsed = JSON.parse(q.open_revs);
      } catch {
        throw badRequest('open_revs must be "all" or a JSON array of revisions.');
      }
      if (!isRevList(parsed)) throw badRequest('Invalid rev format');
      wanted = parsed;
      if (flag(q.latest)) wanted = [...new Set(wanted.flatMap((r) => (tree.some((n) => n.rev === r) ? latestFrom(tree, r).map((l) => l.rev) : [r])))];
    }
    const multipart = wantsMultipart(accept, 'multipart/mixed');
    const bodies = await loadRevisions(sc.db, wanted.map((rev) => ({ documentId: row.id, rev })));
    const out: (MultipartRevision | { missing: string })[] = [];
    for (const rev of wanted) {
      const r = revisionFrom(bodies, row.id, rev);
      out.push(!r || r.pruned ? { missing: rev } : await present(r, tree, multipart));
    }
    if (multipart) return { multipart: openRevsMultipart(out, sc.blobs) };
    return { json: out.map((e) => ('missing' in e ? e : { ok: e.doc })) };
  }

  // meta=true is conflicts, deleted_conflicts and revs_info together, as in CouchDB.
  const meta = flag(q.meta);
  const wantConflicts = meta || flag(q.conflicts);
  const wantDeleted = meta || flag(q.deleted_conflicts);
  const wantRevsInfo = meta || flag(q.revs_info);
  let rev: NewRevision;
  // One read of the tree serves _revisions, atts_since, _revs_info, latest and the conflicts alike.
  let tree = revs || attsSince || wantRevsInfo ? (await loadTrees(sc.db, [row.id])).get(row.id) ?? [] : undefined;
  if (q.rev !== undefined) {
    let wantedRev = validateRev(q.rev);
    if (flag(q.latest)) {
      tree ??= (await loadTrees(sc.db, [row.id])).get(row.id) ?? [];
      const latest = sortLeaves(latestFrom(tree, wantedRev));
      if (latest.length) wantedRev = latest[0].rev;
    }
    const found = await revisionAt(sc.db, row, wantedRev);
    if (!found) throw missing();
    rev = found;
  } else {
    if (row.deleted) throw missing('deleted');
    rev = winnerOfRow(row);
  }
  const more: Partial<PresentOptions> = {};
  if ((wantConflicts || wantDeleted) && row.branches > 0) {
    const leaves = tree ? leavesOf(tree) : (await loadLeaves(sc.db, [row.id])).get(row.id) ?? [];
    const others = sortLeaves(leaves).filter((l) => l.rev !== row.rev);
    if (wantConflicts) more.conflicts = others.filter((l) => !l.deleted).map((l) => l.rev);
    if (wantDeleted) more.deletedConflicts = others.filter((l) => l.deleted).map((l) => l.rev);
  }
  if (wantRevsInfo) more.revsInfo = revsInfoOf(tree ?? [], rev.rev);
  const multipart = attachments && wantsMultipart(accept, 'multipart/related');
  const answer = await present(rev, tree, multipart, more);
  if (multipart && answer.follows.length) return { multipart: documentMultipart(answer, sc.blobs) };
  return { json: answer.doc };
}
