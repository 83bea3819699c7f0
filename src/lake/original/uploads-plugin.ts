import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../../core/context.js';
import type { LakeDb } from '../db.js';
import { bssRoutes } from './bss-routes.js';
import { downloadRoutes } from './download-routes.js';
import { sweepExpiredUploads } from './uploads.js';

const SWEEP_EVERY_MS = 3600_000;

/** Multipart uploads, registered files and download links (Bearer), and the sweep of expired staged uploads. */
export const uploadsPlugin: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  const sweep = () =>
    sweepExpiredUploads(ctx.database.db as LakeDb, ctx.blobs).then(
      (n) => n && app.log.info({ expiredUploads: n }, 'discarded expired staged uploads'),
      (err: unknown) => app.log.warn({ err }, 'could not sweep expired staged uploads'),
    );
  let timer: NodeJS.Timeout | undefined;
  app.addHook('onReady', async () => {
    await sweep();
    timer = setInterval(() => void sweep(), SWEEP_EVERY_MS).unref();
  });
  app.addHook('onClose', async () => clearInterval(timer));

  await app.register(bssRoutes, { ctx });
  await app.register(downloadRoutes, { ctx });
};
