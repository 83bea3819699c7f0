import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import type { Config } from './core/config.js';
import { DEFAULT_SPACE_TOKEN } from './core/config.js';
import { drainOf } from './core/drain.js';
import { settleHeap } from './core/memory.js';
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
  const sockets = trackSockets(app.server);
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
  settleHeap();
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
    // Node's own closeIdleConnections() (which server.close() calls) also destroys a socket whose next request
    // is already in the kernel's buffer but not yet read, and that client gets a reset instead of an answer.
    // Ours closes a socket only once it has been quiet for IDLE_GRACE_MS since the drain began or since its
    // last request; a request arriving in that window is answered (503, Connection: close).
    const reap = reaperOf(sockets, Date.now());
    app.server.closeIdleConnections = reap;
    const reaper = setInterval(reap, 50);
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
  // `on`, not `once`: with no listener of ours left, a library's own signal handler (signal-exit) re-raises the
  // signal and the process dies by it mid-drain. A second signal stops at once.
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) {
      app.log.warn({ signal }, 'second signal: stopping now');
      process.exit(1);
    }
    void shutdown(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  followWrapper((why) => void shutdown(why));
  return app;
}

/**
 * Started through npm (`npx dreamlake serve`, `npm start`), the server's parent is npm's wrapper, and a wrapper
 * killed by SIGTERM does not always pass the signal on (npx does not; Docker signals PID 1 only): the server
 * would serve on as an orphan and never drain. So when the parent it started under is gone, it drains as for a
 * signal. Not for `node bin/dreamlake.js serve`, which a supervisor runs as its own process.
 */
function followWrapper(stop: (why: string) => void): void {
  if (!process.env.npm_command) return;
  const parent = process.ppid;
  const watch = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(watch);
    stop('parent-exit (the npm/npx wrapper that started the server is gone)');
  }, 500);
  watch.unref();
}

/** How long a keep-alive socket must stay quiet during the drain before it is closed. */
const IDLE_GRACE_MS = 250;

function trackSockets(server: Server): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return sockets;
}

function reaperOf(sockets: Set<Socket>, drainStarted: number): () => void {
  const lastBusy = new WeakMap<Socket, number>();
  return () => {
    const now = Date.now();
    for (const socket of sockets) {
      // Node keeps the response being written (from request headers to the response's end) on its socket.
      if ((socket as Socket & { _httpMessage?: unknown })._httpMessage) {
        lastBusy.set(socket, now);
      } else if (now - (lastBusy.get(socket) ?? drainStarted) >= IDLE_GRACE_MS) {
        socket.destroy();
      }
    }
  };
}
