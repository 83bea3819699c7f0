import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../core/context.js';

/** Placeholder until this resource is built. */
export const collectionRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async () => {};
