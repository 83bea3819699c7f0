import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { BlobStore } from '../../core/blobs/store.js';
import type { AppContext } from '../../core/context.js';
import { AppError, badRequest, payloadTooLarge } from '../../core/errors.js';
import { jsonErrorHandler } from '../../core/http.js';
import type { LakeDb } from '../db.js';
import { errors, ProjectParams } from '../schemas.js';
import { projectFor } from './access.js';
import { etagOf } from './conditional.js';
import { checkFileKind, contentTypeFor, kindFor } from './kinds.js';
import { parseUrlPath } from './paths.js';
import { presentNode } from './present.js';
import { NodeBody, UploadQuery } from './schemas.js';
import { planPut, putFile, type PutTarget } from './write.js';

/**
 * PUT …/files/*path. Encapsulated so that its content-type parser (every type, JSON included, handed over
 * as the raw request stream) applies to this route only: the body is streamed into the blob store while
 * it arrives and is never held in memory whole.
 */
export const uploadRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext; blobs: BlobStore }> = async (app, { ctx, blobs }) => {
  const db = ctx.database.db as LakeDb;
  const maxBytes = ctx.config.lake.maxUploadBytes;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
  app.setErrorHandler((err: Error, request, reply) => {
    // Fastify refuses a malformed Content-Type before any parser runs; say so in terms of uploads.
    const unreadable = (err as { code?: string }).code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE';
    return jsonErrorHandler(unreadable ? new AppError(415, 'unsupported_media_type', 'Content-Type must be a media type such as video/mp4 (or leave it out).') : err, request, reply);
  });

  app.put('/files/*', {
    bodyLimit: maxBytes,
    schema: {
      tags: ['DreamLake: nodes'],
      summary: 'Upload a file (raw bytes as the body); creates missing folders, replaces an existing file in place',
      params: Type.Object({ ...ProjectParams.properties, '*': Type.String() }),
      querystring: UploadQuery,
      docBinaryBody:
        "The file's bytes, streamed to storage as they arrive. Any Content-Type: it is stored as sent, or guessed from " +
        'the name when it says nothing (application/octet-stream). Optional x-checksum-sha256, If-Match, If-None-Match.',
      response: { 200: NodeBody, 201: NodeBody, ...errors(400, 401, 403, 404, 409, 412, 413) },
    },
  }, async (request, reply) => {
    const clientKind = request.query.kind === undefined ? undefined : checkFileKind(request.query.kind);
    const project = await projectFor(db, request, request.params, 'write');
    const segments = parseUrlPath(rawWildcard(request));
    const headers = request.headers;
    const target: PutTarget = {
      segments,
      episode: request.query.episode,
      preconditions: { ifMatch: headers['if-match'], ifNoneMatch: headers['if-none-match'] },
    };
    const expectedSize = contentLength(headers['content-length']);
    if (expectedSize !== undefined && expectedSize > maxBytes) {
      throw payloadTooLarge(`The file is larger than the limit of ${maxBytes} bytes.`);
    }
    const expectedSha256 = checksum(headers['x-checksum-sha256']);
    if ((headers['content-type']?.length ?? 0) > 255) throw badRequest('Content-Type must be at most 255 characters.', 'invalid_content_type');
    await planPut(db, project.id, target); // 404/409/412 before a single byte is stored

    const body = (request.body as Readable | undefined) ?? Readable.from([]);
    const blob = await blobs.put(body, { expectedSize, expectedSha256, maxBytes }).catch((err: unknown) => {
      reply.header('connection', 'close'); // the rest of the body may still be on its way
      throw err;
    });
    const contentType = contentTypeFor(segments[segments.length - 1], headers['content-type']);
    const kind = clientKind ?? kindFor(contentType);
    const { node, created } = await putFile(db, project.id, target, { ...blob, contentType, kind });
    return reply.status(created ? 201 : 200).header('etag', etagOf(blob.sha256)).send(presentNode(node));
  });
};

/** The still percent-encoded wildcard part of the URL, so that each path part is decoded and checked alone. */
function rawWildcard(request: FastifyRequest): string {
  const index = request.routeOptions.url!.split('/').indexOf('*');
  return request.url.split('?')[0].split('/').slice(index).join('/');
}

function contentLength(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  if (!/^\d+$/.test(header)) throw badRequest('Content-Length must be a number of bytes.');
  return Number(header);
}

function checksum(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const value = Array.isArray(header) ? header[0] : header;
  if (!/^[0-9a-fA-F]{64}$/.test(value.trim())) throw badRequest('x-checksum-sha256 must be 64 hex digits.', 'invalid_checksum');
  return value.trim().toLowerCase();
}
