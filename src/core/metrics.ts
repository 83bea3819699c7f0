import { createServer, type Server } from 'node:http';
import { pipeline, Transform, type Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Counter, Registry } from 'prom-client';
import { secretsEqual } from './auth/api-keys.js';
import { FileRangeStream } from './blobs/file-range-stream.js';
import type { BlobStore } from './blobs/store.js';
import type { Config } from './config.js';
import { observeQueries, type Database } from './db/database.js';
import { notFound, unauthorized } from './errors.js';

/**
 * Prometheus metrics (`GET /metrics`), on when `[server] metrics_token` or `[server] metrics_port` is set.
 * One registry per app (tests build many apps in one process). Off, nothing here runs on a request.
 */
export interface Metrics {
  registry: Registry;
  /** A source of the number of longpoll requests waiting right now (the Dreamscript changes feed). */
  observeWaiters(count: () => number): void;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;
const OFF_MESSAGE =
  'Metrics are off: set [server] metrics_token (DREAMLAKE_METRICS_TOKEN) or [server] metrics_port (DREAMLAKE_METRICS_PORT).';

export function metricsEnabled(config: Config): boolean {
  return Boolean(config.metricsToken) || config.metricsPort !== undefined;
}

const metricsOfApp = new WeakMap<object, Metrics>();

export function metricsOf(app: FastifyInstance): Metrics | undefined {
  return metricsOfApp.get(app);
}

/**
 * Registers the request metrics on the root instance (before the families) and the `/metrics` route on the API
 * port (token-protected) unless a separate metrics port is configured. Answers the blob store to use (counting
 * bytes in and out) and the Metrics the families report to; both undefined/unchanged when metrics are off.
 */
export async function installMetrics(
  app: FastifyInstance,
  config: Config,
  database: Database,
  blobs: BlobStore,
): Promise<{ metrics?: Metrics; blobs: BlobStore }> {
  if (!metricsEnabled(config)) {
    app.get('/metrics', { schema: { hide: true } }, async () => {
      throw notFound(OFF_MESSAGE);
    });
    return { blobs };
  }
  // Loaded only when metrics are on: prom-client costs start-up time.
  const { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } = await import('prom-client');
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'dreamlake_' });

  const requests = new Counter({
    name: 'dreamlake_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'dreamlake_http_request_duration_seconds',
    help: 'Time from receiving a request to the end of its response, by method and route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const rateLimited = new Counter({
    name: 'dreamlake_rate_limited_total',
    help: 'Requests refused by a rate limit (429), by route pattern',
    labelNames: ['route'] as const,
    registers: [registry],
  });
  const queries = new Histogram({
    name: 'dreamlake_db_query_duration_seconds',
    help: 'Duration of database statements',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [registry],
  });
  observeQueries(database, (ms) => queries.observe(ms / 1000));
  const pool = database.pgPool;
  new Gauge({
    name: 'dreamlake_db_pool_connections',
    help: 'PostgreSQL pool connections by state (total, idle, and requests waiting for one); SQLite: one connection',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      this.set({ state: 'total' }, pool ? pool.totalCount : 1);
      this.set({ state: 'idle' }, pool ? pool.idleCount : 0);
      this.set({ state: 'waiting' }, pool ? pool.waitingCount : 0);
    },
  });
  const bytesIn = new Counter({
    name: 'dreamlake_blob_bytes_in_total',
    help: 'File content bytes stored (uploads and upload parts)',
    registers: [registry],
  });
  const bytesOut = new Counter({
    name: 'dreamlake_blob_bytes_out_total',
    help: 'File content bytes read from the blob store (downloads)',
    registers: [registry],
  });
  const waiterSources: (() => number)[] = [];
  new Gauge({
    name: 'dreamlake_longpoll_waiters',
    help: 'Longpoll requests waiting for a change right now',
    registers: [registry],
    collect() {
      this.set(waiterSources.reduce((sum, count) => sum + count(), 0));
    },
  });

  app.addHook('onResponse', (request, reply, done) => {
    const route = routeOf(request);
    const status = reply.statusCode;
    requests.inc({ method: request.method, route, status: String(status) });
    latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    if (status === 429) rateLimited.inc({ route });
    done();
  });

  const metrics: Metrics = { registry, observeWaiters: (count) => void waiterSources.push(count) };
  metricsOfApp.set(app, metrics);

  if (config.metricsPort === undefined) {
    app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
      if (!tokenAccepted(request.headers.authorization, config.metricsToken)) {
        throw unauthorized('Send Authorization: Bearer <metrics_token>.');
      }
      return reply.type(registry.contentType).send(await registry.metrics());
    });
  }
  return { metrics, blobs: countingBlobs(blobs, bytesIn, bytesOut) };
}

function tokenAccepted(header: string | undefined, token: string | undefined): boolean {
  if (!token) return true;
  const match = header ? BEARER.exec(header) : null;
  return match !== null && secretsEqual(match[1], token);
}

/** The route pattern (bounded cardinality); requests that matched no route share one label. */
function routeOf(request: FastifyRequest): string {
  return request.routeOptions.url ?? 'unmatched';
}

/** Serves `GET /metrics` alone on `[server] metrics_port` (same host as the APIs); the token applies there too. */
export async function startMetricsServer(app: FastifyInstance, config: Config): Promise<Server | null> {
  const metrics = metricsOf(app);
  if (!metrics || config.metricsPort === undefined) return null;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found","message":"Only GET /metrics is served here."}');
      return;
    }
    if (!tokenAccepted(req.headers.authorization, config.metricsToken)) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"error":"unauthorized","message":"Send Authorization: Bearer <metrics_token>."}');
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.metricsPort, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

/** The store, counting the bytes that go in (stored uploads and parts) and come out (reads). */
function countingBlobs(store: BlobStore, bytesIn: Counter, bytesOut: Counter): BlobStore {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'put') {
        return async (...args: Parameters<BlobStore['put']>) => {
          const info = await target.put(...args);
          bytesIn.inc(info.size);
          return info;
        };
      }
      if (prop === 'putPart') {
        return async (...args: Parameters<BlobStore['putPart']>) => {
          const info = await target.putPart(...args);
          bytesIn.inc(info.size);
          return info;
        };
      }
      if (prop === 'get') {
        return async (...args: Parameters<BlobStore['get']>) => countStream(await target.get(...args), bytesOut);
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function countStream(source: Readable, counter: Counter): Readable {
  if (source instanceof FileRangeStream) {
    source.onBytes = (bytes) => counter.inc(bytes);
    return source;
  }
  const counting = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      counter.inc(chunk.length);
      callback(null, chunk);
    },
  });
  pipeline(source, counting, () => {});
  return counting;
}
