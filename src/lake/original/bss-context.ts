import type { FastifyRequest } from 'fastify';
import { loadOrCreateSecret } from '../../core/auth/jwt.js';
import { createUrlSigner, type UrlSigner } from '../../core/blobs/signing.js';
import type { AppContext } from '../../core/context.js';
import { externalBase } from './links.js';

/** What the blob-service routes share: the URL signer and where their signed links point. */
export interface BssContext {
  signer: UrlSigner;
  /** Absolute URL of the DreamLake mount as the client reaches it. */
  baseOf(request: FastifyRequest): string;
}

const cache = new WeakMap<AppContext, BssContext>();

export function bssContext(ctx: AppContext): BssContext {
  let bss = cache.get(ctx);
  if (!bss) {
    const mount = ctx.config.mounts.lake;
    const prefix = !mount || mount === '/' ? '' : mount;
    bss = { signer: createUrlSigner(loadOrCreateSecret(ctx.config)), baseOf: (request) => externalBase(ctx.config, request, prefix) };
    cache.set(ctx, bss);
  }
  return bss;
}
