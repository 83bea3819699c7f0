import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../core/context.js';

/** Placeholder until this family's issue lands. */
export const scriptPlugin: FastifyPluginAsync<{ ctx: AppContext }> = async () => {};
