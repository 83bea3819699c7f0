import type { FastifyPluginAsync } from 'fastify';
import { assertWritable } from '../access/policy.js';
import type { ScriptContext } from '../context.js';
import { badRequest, missing } from './errors.js';
import { dbOf, throwIfFailed, type Query } from './http.js';
import { writeLocalDoc } from './local-docs.js';
import { bodyOf, findDoc, revisionAt, winnerOfRow } from './read.js';
import { validateDocId, validateRev, writeCouchDocs, type CouchInput } from './write.js';

/**
 * COPY /{db}/{docid} with `Destination: <id>` (or `<id>?rev=<rev>` to overwrite that revision of an existing
 * document), as CouchDB: the source's winning revision (or `?rev=`) becomes a new revision of the destination,
 * its attachments included. Attachments are content-addressed, so the copy names the same stored bytes.
 */
export const copyRoutes: FastifyPluginAsync<{ sc: ScriptContext }> = async (app, { sc }) => {
  for (const base of ['/:db/:docid', '/:db/_design/:ddoc']) {
    app.route({
      method: 'COPY',
      url: base,
      handler: async (request, reply) => {
        const { key, target } = await dbOf(sc, request);
        const params = request.params as { docid?: string; ddoc?: string };
        const sourceId = params.ddoc !== undefined ? `_design/${params.ddoc}` : params.docid!;
        const destination = parseDestination(request.headers.destination);
        const row = await findDoc(sc.db, target.projectId, sourceId);
        if (!row) throw missing();
        const wanted = (request.query as Query).rev;
        const source = wanted === undefined ? winnerOfRow(row) : await revisionAt(sc.db, row, validateRev(wanted));
        if (!source || source.deleted) throw missing(source?.deleted ? 'deleted' : 'missing');
        if (destination.local !== undefined) {
          // A _local/ document (a checkpoint) has a body only: the attachments stay behind, as in CouchDB.
          assertWritable(key);
          const rev = await writeLocalDoc(sc.db, target.projectId, destination.local, destination.rev ?? '0-0', bodyOf(source));
          return reply.status(201).header('etag', `"${rev}"`).send({ ok: true, id: destination.id, rev });
        }
        const attachments = source.attachments
          ? Object.fromEntries(
              Object.entries(source.attachments).map(([name, a]) => [name, { stub: false as const, meta: { content_type: a.content_type, digest: a.digest, length: a.length, sha256: a.sha256 } }]),
            )
          : null;
        const input: CouchInput = { id: destination.id, rev: destination.rev, deleted: false, body: bodyOf(source), attachments };
        const [result] = await writeCouchDocs(sc, key, target, [input], true);
        throwIfFailed(result);
        return reply.status(201).header('etag', `"${result.rev}"`).send(result);
      },
    });
  }
};

const LOCAL_REV = /^0-[1-9][0-9]{0,15}$/;

/**
 * `Destination: new-id` or `Destination: existing-id?rev=3-…` (the id percent-encoded, as in a URL path); `local`:
 * the id after `_local/`, whose revs are `0-N`.
 */
function parseDestination(header: string | string[] | undefined): { id: string; rev?: string; local?: string } {
  if (typeof header !== 'string' || header.trim() === '') throw badRequest('COPY needs a Destination header naming the new document.');
  const [path, query] = header.trim().split('?', 2);
  let id: string;
  try {
    id = decodeURIComponent(path);
  } catch {
    throw badRequest('The Destination header is not a valid document id.');
  }
  const rev = query === undefined ? undefined : new URLSearchParams(query).get('rev') ?? undefined;
  if (id.startsWith('_local/') && id.length > 7) {
    if (rev !== undefined && !LOCAL_REV.test(rev)) throw badRequest('Invalid rev format');
    return { id, local: id.slice(7), ...(rev !== undefined && { rev }) };
  }
  return { id: validateDocId(id), ...(rev !== undefined && { rev: validateRev(rev) }) };
}
