import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../core/context.js';
import { currentUser } from '../auth.js';
import type { LakeDb, NodesTable } from '../db.js';
import { fileOf } from '../nodes/content.js';
import { projectNodeFor } from '../nodes/access.js';
import { NodeParams } from '../nodes/schemas.js';
import { nodeNotFound } from '../nodes/tree.js';
import { errors } from '../schemas.js';
import { bssContext } from './bss-context.js';
import { DownloadAnswer, FileParams } from './bss-schemas.js';
import { downloadUrl, unixNow } from './links.js';
import { findNodeForReader } from './node-access.js';

const tags = ['DreamLake: nodes'];

/**
 * Signed, expiring download links for a file: the flat `GET /nodes/:id/download` of the original clients and
 * the same under the project-scoped node routes. The store presigns its own URL when it can (S3); otherwise
 * the server signs a link to itself.
 */
export const downloadRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, { ctx }) => {
  const db = ctx.database.db as LakeDb;
  const ttl = ctx.config.lake.downloadUrlTtl;
  const { signer, baseOf } = bssContext(ctx);

  const linkTo = async (request: FastifyRequest, node: NodesTable) => {
    const file = fileOf(node);
    const expires = unixNow() + ttl;
    const presigned = await ctx.blobs.presignGet(file.sha256, {
      filename: node.name,
      contentType: file.contentType ?? 'application/octet-stream',
      expiresInSeconds: ttl,
    });
    return { url: presigned ?? downloadUrl(baseOf(request), signer, node.id, file.sha256, expires), expiresAt: new Date(expires * 1000).toISOString() };
  };

  app.get('/nodes/:id/download', {
    schema: { tags, summary: 'A signed URL that serves the file without headers (original clients)', params: FileParams, response: { 200: DownloadAnswer, ...errors(400, 401, 404) } },
  }, async (request) => {
    const node = await findNodeForReader(db, currentUser(request).id, request.params.id);
    if (!node) throw nodeNotFound();
    return linkTo(request, node);
  });

  for (const alias of ['projects', 'spaces']) {
    app.get(`/namespaces/:slug/${alias}/:projectSlug/nodes/:id/download`, {
      schema: { tags, summary: 'A signed URL that serves the file without headers', params: NodeParams, response: { 200: DownloadAnswer, ...errors(400, 401, 404) } },
    }, async (request) => {
      return linkTo(request, (await projectNodeFor(db, request, request.params)).node);
    });
  }
};
