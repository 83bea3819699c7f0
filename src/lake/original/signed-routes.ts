import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { SignatureCheck } from '../../core/blobs/signing.js';
import type { AppContext } from '../../core/context.js';
import { AppError, badRequest, forbidden, notFound, payloadTooLarge } from '../../core/errors.js';
import { jsonErrorHandler } from '../../core/http.js';
import type { LakeDb } from '../db.js';
import { fileOf, sendContent } from '../nodes/content.js';
import { errors } from '../schemas.js';
import { bssContext } from './bss-context.js';
import { PartQuery, SignedDownloadQuery } from './bss-schemas.js';
import { downloadFields, PART_PATH, partFields, SIGNED_DOWNLOAD_PATH } from './links.js';
import { readableNodeQuery } from './node-access.js';
import { ensureOpen, findUpload, uploadNotFound } from './uploads.js';

const tags = ['DreamLake: signed URLs'];
/** S3's limit for one part; the configured file maximum also applies. */
const MAX_PART_BYTES = 5 * 1024 ** 3;

/**
 * The server's own signed URLs (filesystem store): part uploads and downloads. They carry no Authorization
 * header: the signature in the query is the credential, so the Bearer hook lets these routes through (config.signedUrl).
 */
export const signedRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, { ctx }) => {
  const db = ctx.database.db as LakeDb;
  const blobs = ctx.blobs;
  const { signer } = bssContext(ctx);

  app.route({
    method: ['GET', 'HEAD'],
    url: `${SIGNED_DOWNLOAD_PATH}/:nodeId`,
    config: { signedUrl: true },
    schema: {
      tags,
      summary: 'A file by a signed link from …/nodes/:id/download (Range, ETag, If-None-Match; no header needed)',
      params: { type: 'object', properties: { nodeId: { type: 'string', maxLength: 64 } }, required: ['nodeId'] },
      querystring: SignedDownloadQuery,
      response: errors(403, 404, 416),
    },
    handler: async (request, reply) => {
      const { nodeId } = request.params as { nodeId: string };
      const { sha256, expires, signature } = request.query;
      refuse(signer.verify(downloadFields(nodeId, sha256), expires, signature));
      // Bound to the node and its content: a deleted node, or one whose bytes changed since, is gone.
      const node = await readableNodeQuery(db, nodeId).executeTakeFirst();
      if (!node || node.sha256 !== sha256) throw notFound('The file of this link was deleted or replaced.');
      return sendContent(request, reply, blobs, { ...fileOf(node), filename: node.name });
    },
  });

  await app.register(async (plain) => {
    const parts = plain.withTypeProvider<TypeBoxTypeProvider>();
    // Part bodies are raw bytes of any type, streamed to the store as they arrive.
    parts.removeAllContentTypeParsers();
    parts.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    parts.setErrorHandler((err: Error, request, reply) => jsonErrorHandler(err, request, reply));
    const limit = Math.min(MAX_PART_BYTES, ctx.config.lake.maxUploadBytes);

    parts.put(PART_PATH, {
      bodyLimit: limit,
      config: { signedUrl: true },
      schema: { tags, summary: 'Upload one part by a signed URL from …/multipart/parts; answers its ETag (MD5 hex)', querystring: PartQuery, response: errors(400, 403, 404, 409, 413) },
    }, async (request, reply) => {
      const { uploadId, partNumber, expires, signature } = request.query;
      refuse(signer.verify(partFields(uploadId, partNumber), expires, signature));
      const row = await findUpload(db, uploadId);
      if (!row) throw uploadNotFound();
      ensureOpen(row);
      const header = request.headers['content-length'];
      if (header !== undefined && !/^\d+$/.test(header)) throw badRequest('Content-Length must be a number of bytes.');
      const expectedSize = header === undefined ? undefined : Number(header);
      if (expectedSize !== undefined && expectedSize > limit) throw payloadTooLarge(`A part may have at most ${limit} bytes.`);
      const body = (request.body as Readable | undefined) ?? Readable.from([]);
      const part = await blobs.putPart(row.key, row.store_upload_id, partNumber, body, { expectedSize, maxBytes: limit }).catch((err: unknown) => {
        reply.header('connection', 'close'); // the rest of the body may still be on its way
        throw err;
      });
      return reply.header('etag', `"${part.etag}"`).send(part);
    });
  });
};

function refuse(check: SignatureCheck): void {
  if (check === 'expired') throw new AppError(403, 'url_expired', 'This signed URL has expired; ask for a new one.');
  if (check !== 'ok') throw forbidden('The signature of this URL is not valid.');
}
