import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Config } from '../core/config.js';
import { jsonNotFoundHandler } from '../core/http.js';

/** Where `npm run build:console` puts the app (the same two levels up from src/ and from dist/). */
export const CONSOLE_DIST = fileURLToPath(new URL('../../console/dist/', import.meta.url));

/**
 * Strict: scripts and styles only from the console's own files (no inline script, no CDN); media may be blob:
 * URLs (previews fetched with the token), same-origin URLs (content, signed download links) and the public URL
 * signed links are built on when one is configured, and the S3 bucket (signed part and download URLs).
 */
export function consoleCsp(config: Config): string {
  const publicUrl = (config.lake as { publicUrl?: string }).publicUrl;
  const extra = (publicUrl ? ` ${new URL(publicUrl).origin}` : '') + storageOrigins(config).map((o) => ` ${o}`).join('');
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' blob: data:${extra}`,
    `media-src 'self' blob:${extra}`,
    `connect-src 'self'${extra}`,
    "worker-src 'none'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * With the S3 backend, signed part URLs (console uploads PUT there) and signed download links point at the
 * bucket: its origin(s), path-style and virtual-hosted. The bucket's CORS must allow PUT from the console's
 * origin and expose the ETag header.
 */
export function storageOrigins(config: Config): string[] {
  const { backend, s3 } = config.storage ?? { backend: 'fs' };
  if (backend !== 's3' || !s3) return [];
  const out: string[] = [];
  if (s3.endpoint) {
    const url = new URL(s3.endpoint);
    out.push(url.origin);
    if (!s3.forcePathStyle && s3.bucket) out.push(`${url.protocol}//${s3.bucket}.${url.host}`);
  } else {
    out.push(`https://s3.${s3.region}.amazonaws.com`);
    if (s3.bucket) out.push(`https://${s3.bucket}.s3.${s3.region}.amazonaws.com`, `https://${s3.bucket}.s3.amazonaws.com`);
  }
  return out;
}

const LONG_CACHE = 'public, max-age=31536000, immutable';

interface HeaderTarget {
  setHeader?: (name: string, value: string) => unknown;
  header?: (name: string, value: string) => unknown;
}

/** @fastify/static hands setHeaders the raw response in some versions and the reply in others. */
function setHeader(target: HeaderTarget, name: string, value: string) {
  if (typeof target.setHeader === 'function') target.setHeader(name, value);
  else target.header?.(name, value);
}

/**
 * The web console under its own mount: hashed assets cached for a year, index.html never cached, any other
 * path below the mount answered with index.html (the app routes deep links itself). Nothing here runs on
 * the APIs' routes: the hooks are scoped to this plugin.
 */
export async function consolePlugin(app: FastifyInstance, opts: { config: Config; mount: string; root?: string }) {
  const root = opts.root ?? CONSOLE_DIST;
  const { mounts } = opts.config;
  const built = existsSync(`${root}index.html`);

  const csp = consoleCsp(opts.config);
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('content-security-policy', csp);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    done(null, payload);
  });

  // What the app needs to know about this server (mounts are configurable).
  app.get('/config.json', { schema: { hide: true } }, async (request, reply) => {
    reply.header('cache-control', 'no-cache');
    return { mounts: { lake: mounts.lake, script: mounts.script, space: mounts.space, console: opts.mount } };
  });

  if (!built) {
    const notBuilt = async (request: FastifyRequest, reply: FastifyReply) =>
      reply
        .status(503)
        .type('text/plain; charset=utf-8')
        .send('The console is not built: run `npm run build:console` (npm install does it).');
    app.get('/', { schema: { hide: true }, prefixTrailingSlash: 'slash' }, notBuilt);
    app.get('/*', { schema: { hide: true } }, notBuilt);
    return;
  }

  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    wildcard: false,
    index: false,
    cacheControl: false,
    schemaHide: true,
    setHeaders: (res: unknown, path: string) => {
      const hashed = /[\\/]assets[\\/]/.test(path);
      setHeader(res as HeaderTarget, 'cache-control', hashed ? LONG_CACHE : 'no-cache');
    },
  });

  // The app is built with relative URLs (any mount works); deep links need them absolute.
  const html = readFileSync(`${root}index.html`, 'utf8').replaceAll('"./', `"${opts.mount}/`);
  const index = (request: FastifyRequest, reply: FastifyReply) =>
    reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(html);
  app.get('/', { schema: { hide: true }, prefixTrailingSlash: 'slash' }, index);
  app.get('/*', { schema: { hide: true } }, (request, reply) => {
    // A missing hashed asset is a 404, not the app (a stale tab would otherwise parse HTML as JavaScript).
    if (request.url.startsWith(`${opts.mount}/assets/`)) return jsonNotFoundHandler(request, reply);
    return index(request, reply);
  });
}

/** `/console` → `/console/`, and, when DreamLake owns `/`, `/` → the console for browsers (JSON clients keep the 404). */
export function registerConsoleRedirects(app: FastifyInstance, config: Config) {
  const mount = config.mounts.console;
  if (!mount) return;
  app.get(mount, { schema: { hide: true } }, (request, reply) => reply.redirect(`${mount}/`, 302));
  if (config.mounts.lake === '/') {
    app.get('/', { schema: { hide: true } }, (request, reply) => {
      const accept = request.headers.accept ?? '';
      if (accept.includes('text/html')) return reply.redirect(`${mount}/`, 302);
      return jsonNotFoundHandler(request, reply);
    });
  }
}
