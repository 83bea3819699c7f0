import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../core/context.js';

/** Placeholder until this resource is built. */
export const datasetRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async () => {};
