import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { BlobStore } from '../../core/blobs/store.js';
import type { AppContext } from '../../core/context.js';
import { AppError, rangeNotSatisfiable } from '../../core/errors.js';
import { decideRange, UPLOADED_CONTENT_HEADERS } from '../../core/range.js';
import type { LakeDb, NodesTable } from '../db.js';
import { errors } from '../schemas.js';
import { projectNodeFor } from './access.js';
import { etagListMatches, etagOf } from './conditional.js';
import { NodeParams } from './schemas.js';

/**
 * GET and HEAD of a file's bytes, with what a browser `<video>` needs to seek: Accept-Ranges, single ranges
 * (206/416), ETag (the sha256) and If-None-Match (304).
 */
export const contentRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext; blobs: BlobStore }> = async (app, { ctx, blobs }) => {
  const db = ctx.database.db as LakeDb;

  app.route({
    method: ['GET', 'HEAD'],
    url: '/nodes/:id/content',
    schema: {
      tags: ['DreamLake: nodes'],
      summary: "A file's bytes (Range, If-None-Match and If-Range supported)",
      params: NodeParams,
      response: errors(400, 401, 404, 416),
      docResponses: {
        200: { description: 'The whole file, with its Content-Type, ETag and Accept-Ranges', contentType: 'application/octet-stream', schema: { type: 'string', format: 'binary' } },
        206: { description: 'The requested range (Content-Range: bytes a-b/size)', contentType: 'application/octet-stream', schema: { type: 'string', format: 'binary' } },
        304: { description: 'Not modified: the ETag in If-None-Match is current' },
      },
    },
    handler: async (request, reply) => {
      const { node } = await projectNodeFor(db, request, request.params);
      return sendContent(request, reply, blobs, fileOf(node));
    },
  });
};

/** What it takes to serve stored bytes: the blob, and how to describe it. */
export interface ServedFile {
  sha256: string;
  size: number;
  contentType: string | null;
  updatedAt: string;
  /** Sent as Content-Disposition: attachment (signed download links, whose URL says nothing of the name). */
  filename?: string;
}

/** A node as a served file; folders and episodes have no content (400). */
export function fileOf(node: NodesTable): ServedFile {
  if (Number(node.leaf) !== 1 || node.sha256 === null) {
    throw new AppError(400, 'not_a_file', `${node.path} is a ${node.kind}; only files have content.`);
  }
  return { sha256: node.sha256, size: Number(node.size), contentType: node.content_type, updatedAt: node.updated_at };
}

/** Serves a stored file to GET or HEAD, with ranges, ETag/304 and the safe download headers. */
export async function sendContent(request: FastifyRequest, reply: FastifyReply, blobs: BlobStore, file: ServedFile) {
  const { size, sha256 } = file;
  const etag = etagOf(sha256);
  reply.headers({
    etag,
    'accept-ranges': 'bytes',
    'last-modified': new Date(file.updatedAt).toUTCString(),
    'cache-control': 'private, no-cache',
    // Uploaded bytes are served as uploaded: never let a browser run them as a page of this origin.
    ...UPLOADED_CONTENT_HEADERS,
  });
  if (file.filename !== undefined) reply.header('content-disposition', contentDisposition(file.filename));
  const ifNoneMatch = request.headers['if-none-match'];
  if (ifNoneMatch !== undefined && etagListMatches(ifNoneMatch, sha256)) return reply.status(304).send();

  const ifRange = request.headers['if-range'];
  const range = typeof ifRange !== 'string' || ifRange.trim() === etag ? decideRange(request.headers.range, size) : null;
  if (range === 'unsatisfiable') throw rangeNotSatisfiable(`The range is outside the ${size} bytes of this file.`, size);
  reply.type(file.contentType ?? 'application/octet-stream');
  if (range) {
    reply.status(206).header('content-range', `bytes ${range.start}-${range.end}/${size}`);
  }
  reply.header('content-length', range ? range.end - range.start + 1 : size);
  if (request.method === 'HEAD') return reply.send();
  return reply.send(await blobs.get(sha256, range ?? undefined));
}

/** `attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266 / 8187). */
export function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
