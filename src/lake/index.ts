import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../core/context.js';

export const lakePlugin: FastifyPluginAsync<{ ctx: AppContext }> = async () => {};
