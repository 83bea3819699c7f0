import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { badRequest, notFound } from '../../core/errors.js';
import { assertDocumentAccess, assertProjectAccess, assertWritable } from '../access/policy.js';
import { currentKey } from '../access/authenticate.js';
import type { ScriptContext } from '../context.js';
import { cursorAfter, ListQuery, NEXT_HEADER, pageOf } from '../paging.js';
import { projectNotFound } from '../projects/repo.js';
import { ProjectParams } from '../projects/schemas.js';
import { BODY_ERRORS, ERRORS, ErrorBody } from '../schemas.js';
import { bulkWrite } from './bulk.js';
import { changeDocument, createDocument } from './operations.js';
import { presentDocument } from './present.js';
import * as repo from './repo.js';
import { etagListNames } from '../../core/etag.js';
import { etagOf, expectedRevision } from './revs.js';
import {
  BulkBody,
  BulkResult,
  Deleted,
  DeleteBody,
  Document,
  DocumentParams,
  NewDocument,
  PatchDocument,
  ReplaceDocument,
  Revision,
  RevQuery,
} from './schemas.js';

const tags = ['Dreamscript: documents'];
const DocumentList = { ...Type.Array(Document), headers: NEXT_HEADER };
const WRITE_ERRORS = { ...ERRORS, 409: ErrorBody, ...BODY_ERRORS };
const ETAG = { etag: { type: 'string', description: 'The revision, quoted' } } as const;

export const documentRoutes: FastifyPluginAsyncTypebox<{ sc: ScriptContext }> = async (app, { sc }) => {
  app.get('/documents', {
    schema: { tags, summary: 'Documents the key may see, oldest first; x-next leads to the next page', querystring: ListQuery, response: { 200: DocumentList, ...ERRORS } },
  }, async (request, reply) => {
    const { limit = 50, cursor } = request.query;
    const rows = await repo.listDocuments(sc.db, cursorAfter(sc.cursors, 'documents', cursor), limit + 1, currentKey(request).projects);
    return pageOf(sc.cursors, request, reply, 'documents', rows, limit, (r) => r.id).map(presentDocument);
  });

  app.get('/projects/:projectId/documents', {
    schema: { tags, summary: 'Documents of one project, oldest first', params: ProjectParams, querystring: ListQuery, response: { 200: DocumentList, ...ERRORS } },
  }, async (request, reply) => {
    const { projectId } = request.params;
    assertProjectAccess(currentKey(request), projectId);
    const { limit = 50, cursor } = request.query;
    const rows = await repo.listProjectDocuments(sc.db, projectId, cursorAfter(sc.cursors, `projects/${projectId}/documents`, cursor), limit + 1);
    if (!rows) throw projectNotFound(projectId);
    return pageOf(sc.cursors, request, reply, `projects/${projectId}/documents`, rows, limit, (r) => r.id).map(presentDocument);
  });

  app.post('/documents', {
    schema: {
      tags,
      summary: 'Create a document (If-Match is a 400: there is no revision to match)',
      body: NewDocument,
      response: { 201: { ...Document, headers: ETAG }, ...WRITE_ERRORS },
    },
  }, async (request, reply) => {
    const key = currentKey(request);
    assertWritable(key);
    refuseIfMatch(request.headers['if-match'], 'A create replaces no revision');
    const { title, content = null, projectId = null } = request.body;
    const row = await createDocument(sc, key, { title, content, projectId, deleted: false });
    return reply
      .status(201)
      .header('location', `${request.url.split('?')[0]}/${row.id}`)
      .header('etag', etagOf(row.rev))
      .send(presentDocument(row));
  });

  app.post('/documents/_bulk', {
    bodyLimit: 32 * 1024 * 1024,
    schema: {
      tags,
      summary: 'Create, replace or delete up to 1,000 documents; one result per item, in order (CouchDB _bulk_docs); _rev per item, If-Match is a 400',
      body: BulkBody,
      response: { 201: Type.Object({ results: Type.Array(BulkResult) }), ...WRITE_ERRORS },
    },
  }, async (request, reply) => {
    const key = currentKey(request);
    assertWritable(key);
    refuseIfMatch(request.headers['if-match'], 'A bulk request names revisions per item, with _rev');
    return reply.status(201).send({ results: await bulkWrite(sc, key, request.body.docs) });
  });

  app.get('/documents/:documentId', {
    schema: {
      tags,
      summary: 'A document, or with ?rev= one of its earlier revisions',
      params: DocumentParams,
      querystring: RevQuery,
      response: { 200: { ...Document, headers: ETAG }, 304: Type.Null(), ...ERRORS },
    },
  }, async (request, reply) => {
    const key = currentKey(request);
    const { documentId } = request.params;
    const { rev } = request.query;
    if (rev !== undefined) {
      const old = await repo.findRevision(sc.db, documentId, rev);
      if (!old) throw notFound(`Document ${documentId} has no revision ${rev}.`);
      assertDocumentAccess(key, documentId, old.current_project_id);
      if (old.deleted) throw notFound(`Revision ${rev} of document ${documentId} is its deletion.`);
      return reply.header('etag', etagOf(old.rev)).send(presentDocument(old));
    }
    const row = await repo.findDocument(sc.db, documentId);
    if (!row || row.deleted) throw repo.documentNotFound(documentId);
    assertDocumentAccess(key, documentId, row.project_id);
    reply.header('etag', etagOf(row.rev));
    if (etagListNames(request.headers['if-none-match'], row.rev)) return reply.status(304).send(null);
    return presentDocument(row);
  });

  app.put('/documents/:documentId', {
    schema: {
      tags,
      summary: 'Replace a document (a new revision); name the one you replace with If-Match or _rev, or last write wins',
      params: DocumentParams,
      body: ReplaceDocument,
      response: { 200: { ...Document, headers: ETAG }, ...WRITE_ERRORS },
    },
  }, async (request, reply) => {
    const key = currentKey(request);
    assertWritable(key);
    const { title, content = null, projectId = null, _rev } = request.body;
    const expected = expectedRevision(request.headers['if-match'], _rev);
    const { row } = await changeDocument(sc, key, request.params.documentId, expected, () => ({ title, content, projectId, deleted: false }));
    return reply.header('etag', etagOf(row.rev)).send(presentDocument(row));
  });

  app.patch('/documents/:documentId', {
    schema: {
      tags,
      summary: 'Change some fields of a document (a new revision); If-Match or _rev as for PUT',
      params: DocumentParams,
      body: PatchDocument,
      response: { 200: { ...Document, headers: ETAG }, ...WRITE_ERRORS },
    },
  }, async (request, reply) => {
    const key = currentKey(request);
    assertWritable(key);
    const { _rev, ...patch } = request.body;
    if (Object.keys(patch).length === 0) throw badRequest('Nothing to change: give title, content or projectId.', 'validation_error');
    const expected = expectedRevision(request.headers['if-match'], _rev);
    const { row } = await changeDocument(sc, key, request.params.documentId, expected, (current) => ({ ...current, ...patch }));
    return reply.header('etag', etagOf(row.rev)).send(presentDocument(row));
  });

  app.delete('/documents/:documentId', {
    schema: {
      tags,
      summary: 'Delete a document: writes a tombstone revision; If-Match, ?rev= or _rev in an optional body, as for PUT',
      params: DocumentParams,
      querystring: RevQuery,
      body: DeleteBody,
      docOptionalBody: true,
      response: { 200: { ...Deleted, headers: ETAG }, ...WRITE_ERRORS },
    },
    // The body is optional: none is an empty one.
    preValidation: async (request) => {
      if (request.body === undefined) request.body = {};
    },
  }, async (request, reply) => {
    const key = currentKey(request);
    assertWritable(key);
    const fromQuery = request.query.rev;
    const fromBody = request.body?._rev;
    if (fromQuery !== undefined && fromBody !== undefined && fromQuery !== fromBody) {
      throw badRequest(`?rev=${fromQuery} and the _rev ${fromBody} in the body disagree.`, 'invalid_request');
    }
    const expected = expectedRevision(request.headers['if-match'], fromBody ?? fromQuery);
    // The tombstone's revision, even when a live conflicting branch outlives it (the document then lives on).
    const { row, rev } = await changeDocument(sc, key, request.params.documentId, expected, (current) => ({ ...current, deleted: true }));
    return reply.header('etag', etagOf(rev)).send({ id: row.id, _rev: rev, deleted: true as const });
  });

  app.get('/documents/:documentId/revisions', {
    schema: {
      tags,
      summary: 'The revisions of a document, oldest first (deleted documents keep theirs)',
      params: DocumentParams,
      querystring: ListQuery,
      response: { 200: { ...Type.Array(Revision), headers: NEXT_HEADER }, ...ERRORS },
    },
  }, async (request, reply) => {
    const { documentId } = request.params;
    const { limit = 50, cursor } = request.query;
    const list = `documents/${documentId}/revisions`;
    const found = await repo.listRevisions(sc.db, documentId, cursorAfter(sc.cursors, list, cursor), limit + 1);
    if (!found) throw repo.documentNotFound(documentId);
    assertDocumentAccess(currentKey(request), documentId, found.projectId);
    return pageOf(sc.cursors, request, reply, list, found.revisions, limit, (r) => r.seq).map((r) => ({
      _rev: r.rev,
      ...(r.deleted && { deleted: true }),
      createdAt: r.createdAt,
    }));
  });
};

/** A write that replaces no revision of its own refuses If-Match (even `*`) rather than ignore it. */
function refuseIfMatch(header: string | undefined, why: string): void {
  if (header !== undefined) throw badRequest(`${why}: send no If-Match header.`, 'invalid_request');
}
