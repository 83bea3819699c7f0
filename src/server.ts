import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import type { Config } from './core/config.js';
import { DEFAULT_SPACE_TOKEN } from './core/config.js';
import { consoleUrl } from './console/url.js';

/** The only place that listens: starts the app and closes it cleanly on SIGINT/SIGTERM. */
export async function startServer(config: Config): Promise<FastifyInstance> {
  const app = await buildApp(config);
  if (config.mounts.space && config.space.apiToken === DEFAULT_SPACE_TOKEN) {
    app.log.warn('Dreamspace is using the default API token "SecureToken": set [API] APITOKEN or DREAMSPACE_APITOKEN.');
  }
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  console.log(`DreamLake listening on http://${host}:${port}`);
  const consoleAt = consoleUrl(config, port);
  if (consoleAt) console.log(`Console: ${consoleAt} (sign in with the link \`dreamlake login-link <username>\` prints)`);

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    // close() stops accepting connections, waits for in-flight requests, then runs onClose (the database).
    const timer = setTimeout(() => process.exit(1), 10_000);
    timer.unref();
    await app.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  return app;
}
