import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../core/context.js';
import { AppError, notFound } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { nowIso } from '../../core/time.js';
import { currentUser } from '../auth.js';
import type { LakeDb } from '../db.js';
import { DEFAULT_CONTENT_TYPE } from '../nodes/kinds.js';
import { sendContent } from '../nodes/content.js';
import { ensureAllowed } from '../policies.js';
import { checkMetadata, errors } from '../schemas.js';
import { resolveProject } from '../scope.js';
import { bssContext } from './bss-context.js';
import {
  AbortAnswer, CompleteAnswer, CompleteBody, FileAnswer, FileParams, InitAnswer, InitBody, PartsAnswer, PartsBody, PartsDoneAnswer, RegisterBody, UploadRef,
} from './bss-schemas.js';
import { partUrl, unixNow } from './links.js';
import { presentFile } from './present.js';
import { abortUpload, completeUpload, ensureOpen, findCompletedUpload, getUpload, isExpired, sizeMismatch, startUpload } from './uploads.js';
import { uploadDb } from './uploads-db.js';

const tags = ['DreamLake: blob service (original clients)'];

/** The original clients' blob service: multipart uploads (S3-style), registered files. Bearer on every route. */
export const bssRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, { ctx }) => {
  const db = ctx.database.db as LakeDb;
  const blobs = ctx.blobs;
  const { config } = ctx;
  const { signer, baseOf } = bssContext(ctx);

  app.post('/files/upload/multipart/init', {
    schema: { tags, summary: 'Start (or resume, for the same uploader and hash) a staged multipart upload', body: InitBody, response: { 200: InitAnswer, 201: InitAnswer, ...errors(400, 401, 403, 404) } },
  }, async (request, reply) => {
    const user = currentUser(request);
    // owner/project are labels (`video upload` sends free strings, "default" by default): staged content is the
    // uploader's own until POST /nodes puts it in a project, which checks the write role. A project the caller
    // can see but not write to is refused now, before gigabytes arrive; one it cannot see is a label like any.
    const target = await resolveProject(db, user.id, request.body.owner, request.body.project).catch((err: unknown) => {
      if (err instanceof AppError && err.status === 404) return null;
      throw err;
    });
    if (target) ensureAllowed(target.role, 'write');
    const hash = request.body.hash.toLowerCase();
    const { row, created } = await startUpload(db, blobs, {
      uploaderId: user.id,
      hash,
      contentType: request.body.contentType || DEFAULT_CONTENT_TYPE,
      owner: request.body.owner,
      project: request.body.project,
      expirySeconds: config.lake.uploadExpiry,
      partSize: config.lake.partSize,
    });
    return reply.status(created ? 201 : 200).send({ uploadId: row.id, key: row.key, partSize: config.lake.partSize, expiresAt: row.expires_at });
  });

  app.post('/files/upload/multipart/parts', {
    schema: { tags, summary: 'Signed URLs to PUT parts to (absolute, expiring, no Authorization header needed)', body: PartsBody, response: { 200: PartsAnswer, ...errors(400, 401, 404, 409) } },
  }, async (request) => {
    const row = await getUpload(db, currentUser(request).id, request.body.uploadId, request.body.key);
    ensureOpen(row);
    const expires = Math.min(unixNow() + config.lake.partUrlTtl, Math.floor(Date.parse(row.expires_at) / 1000));
    const ttl = Math.max(1, expires - unixNow());
    const base = baseOf(request);
    const presigned = await blobs.presignParts(row.key, row.store_upload_id, request.body.partNumbers, ttl);
    const parts: Record<string, string> = {};
    for (const n of request.body.partNumbers) parts[String(n)] = presigned?.get(n) ?? partUrl(base, signer, row.id, n, expires);
    return { parts, expiresAt: new Date(expires * 1000).toISOString() };
  });

  app.get('/files/upload/multipart/parts-done', {
    schema: { tags, summary: 'The parts received so far (to resume); expired: true when the upload cannot continue', querystring: UploadRef, response: { 200: PartsDoneAnswer, ...errors(400, 401, 404) } },
  }, async (request) => {
    const row = await getUpload(db, currentUser(request).id, request.query.uploadId, request.query.key);
    const gone = { parts: [], expired: true };
    if (row.completed_at !== null || isExpired(row)) return gone;
    try {
      return { parts: await blobs.listParts(row.key, row.store_upload_id), expired: false };
    } catch (err) {
      if (err instanceof AppError && err.status === 404) return gone;
      throw err;
    }
  });

  app.post('/files/upload/multipart/complete', {
    schema: { tags, summary: 'Assemble the parts; verifies the sha256 prefix announced at init (and size when given)', body: CompleteBody, response: { 200: CompleteAnswer, ...errors(400, 401, 404, 409, 413) } },
  }, async (request) => {
    const { uploadId, key, parts, size } = request.body;
    const row = await getUpload(db, currentUser(request).id, uploadId, key);
    const info = await completeUpload(db, blobs, row, parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag })), {
      expectedSize: size,
      maxBytes: config.lake.maxUploadBytes,
    });
    return { uploadId, key, sha256: info.sha256, size: info.size };
  });

  const abort = async (request: { body: { uploadId: string; key: string } } & Parameters<typeof currentUser>[0]) => {
    const body = request.body;
    await abortUpload(db, blobs, await getUpload(db, currentUser(request).id, body.uploadId, body.key));
    return { aborted: true as const };
  };
  const abortSchema = { tags, summary: 'Abort a staged upload: its parts are discarded', body: UploadRef, response: { 200: AbortAnswer, ...errors(400, 401, 404) } };
  app.delete('/files/upload/multipart', { schema: abortSchema }, (request) => abort(request));
  app.post('/files/upload/multipart/abort', { schema: abortSchema }, (request) => abort(request));

  app.post('/files', {
    schema: { tags, summary: "Register a completed upload's content (found by uploader and stagingHash); answers its bssId", body: RegisterBody, response: { 201: FileAnswer, ...errors(400, 401, 404) } },
  }, async (request, reply) => {
    const user = currentUser(request);
    const body = request.body;
    checkMetadata(body.metadata);
    const upload = await findCompletedUpload(db, user.id, body.stagingHash.toLowerCase());
    if (!upload || upload.sha256 === null) throw notFound('No completed upload of yours has this stagingHash.');
    const size = Number(upload.size);
    if (body.size !== undefined && body.size !== size) throw sizeMismatch(size, body.size);
    if (!(await blobs.exists(upload.sha256))) throw notFound('The uploaded content is no longer stored.');
    const row = {
      id: newId(),
      uploader_id: user.id,
      sha256: upload.sha256,
      size,
      content_type: body.contentType || upload.content_type,
      name: body.name,
      original_name: body.originalName ?? null,
      kind: body.kind ?? null,
      owner: body.owner ?? null,
      project: body.project ?? null,
      metadata: body.metadata ? JSON.stringify(body.metadata) : null,
      created_at: nowIso(),
    };
    await uploadDb(db).insertInto('bss_files').values(row).execute();
    return reply.status(201).send(presentFile(row));
  });

  const ownFile = async (userId: string, id: string) => {
    const row = await uploadDb(db).selectFrom('bss_files').selectAll().where('id', '=', id).where('uploader_id', '=', userId).executeTakeFirst();
    if (!row) throw notFound('File not found.');
    return row;
  };

  app.get('/files/:id', {
    schema: { tags, summary: 'A registered file (the uploader only)', params: FileParams, response: { 200: FileAnswer, ...errors(401, 404) } },
  }, async (request) => presentFile(await ownFile(currentUser(request).id, request.params.id)));

  app.route({
    method: ['GET', 'HEAD'],
    url: '/files/:id/raw',
    schema: { tags, summary: "A registered file's bytes (Range, If-None-Match)", params: FileParams, response: errors(401, 404, 416) },
    handler: async (request, reply) => {
      const row = await ownFile(currentUser(request).id, request.params.id);
      return sendContent(request, reply, blobs, {
        sha256: row.sha256,
        size: Number(row.size),
        contentType: row.content_type,
        updatedAt: row.created_at,
        filename: row.original_name ?? row.name.split('/').pop() ?? row.name,
      });
    },
  });
};
