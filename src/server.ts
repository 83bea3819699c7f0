import type { Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import type { Config } from './core/config.js';
import { DEFAULT_SPACE_TOKEN } from './core/config.js';
import { drainOf } from './core/drain.js';
import { metricsEnabled, startMetricsServer } from './core/metrics.js';
import { checkDataDir, describeDatabaseError, describeListenError } from './core/startup-errors.js';
import { consoleUrl } from './console/url.js';

/** The only place that listens: starts the app and drains it, then closes the database, on SIGINT/SIGTERM. */
export async function startServer(config: Config): Promise<FastifyInstance> {
  checkDataDir(config);
  let app: FastifyInstance;
  try {
    app = await buildApp(config);
  } catch (err) {
    throw describeDatabaseError(err, config);
  }
  if (config.mounts.space && config.space.apiToken === DEFAULT_SPACE_TOKEN) {
    app.log.warn('Dreamspace is using the default API token "SecureToken": set [API] APITOKEN or DREAMSPACE_APITOKEN.');
  }
  let metricsServer: Server | null = null;
  try {
    await app.listen({ host: config.host, port: config.port });
    metricsServer = await startMetricsServer(app, config).catch((err) => {
      throw describeListenError(err, config, 'metrics');
    });
  } catch (err) {
    await app.close();
    throw describeListenError(err, config, 'api');
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  console.log(`DreamLake listening on http://${host}:${port}`);
  if (metricsServer) {
    const metricsAddress = metricsServer.address();
    const metricsPort = typeof metricsAddress === 'object' && metricsAddress ? metricsAddress.port : config.metricsPort;
    console.log(`Metrics on http://${host}:${metricsPort}/metrics`);
  } else if (!metricsEnabled(config)) {
    app.log.info('GET /metrics is off: set [server] metrics_token or [server] metrics_port to turn it on.');
  }
  const consoleAt = consoleUrl(config, port);
  if (consoleAt) console.log(`Console: ${consoleAt} (sign in with the link \`dreamlake login-link <username>\` prints)`);

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    const deadlineMs = config.shutdownTimeoutSeconds * 1000;
    app.log.info({ signal, deadlineSeconds: config.shutdownTimeoutSeconds }, 'draining: finishing in-flight requests');
    // From here every response says `Connection: close` and new requests get a 503 (core/drain.ts). Sockets that
    // sit idle between keep-alive requests are closed until close() has finished (fastify/fastify#7044).
    drainOf(app)?.begin();
    app.server.closeIdleConnections();
    const reaper = setInterval(() => app.server.closeIdleConnections(), 50);
    let cut = false;
    const deadline = setTimeout(() => {
      cut = true;
      app.log.warn(`requests still running after shutdown_timeout (${config.shutdownTimeoutSeconds} s): cutting them`);
      app.server.closeAllConnections();
    }, deadlineMs);
    // Last resort, should closing itself hang (e.g. a database that does not answer).
    const stuck = setTimeout(() => {
      app.log.error('shutdown did not finish: exiting without closing cleanly');
      process.exit(1);
    }, deadlineMs + 10_000);
    stuck.unref();
    let failed = false;
    try {
      // close() stops accepting connections, waits for open ones, runs preClose/onClose (the database last).
      await Promise.all([
        app.close(),
        metricsServer && new Promise<void>((resolve) => metricsServer!.close(() => resolve())),
        metricsServer?.closeAllConnections(),
      ]);
    } catch (err) {
      failed = true;
      app.log.error({ err }, 'error while closing');
    }
    clearInterval(reaper);
    clearTimeout(deadline);
    app.log.info(cut || failed ? 'stopped (requests were cut)' : 'stopped cleanly');
    process.exit(cut || failed ? 1 : 0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  return app;
}
