import type { FastifyInstance } from 'fastify';
import { serviceUnavailable } from './errors.js';

/**
 * The server's side of a graceful shutdown (fastify/fastify#7044). Once draining: every response carries
 * `Connection: close`, so a keep-alive client's socket closes as soon as its in-flight request is answered, and
 * requests that still arrive get a 503 with `Retry-After` (and `Connection: close`) in their API's own error
 * format. src/server.ts starts it and keeps closing idle sockets until `app.close()` has finished.
 */
export interface Drain {
  readonly active: boolean;
  begin(): void;
}

const drains = new WeakMap<object, Drain>();

/** Registers the drain hooks on the root instance (before the families, so that every route has them). */
export function installDrain(app: FastifyInstance, retryAfterSeconds: number): Drain {
  let active = false;
  // Callback style: these run on every request.
  app.addHook('onRequest', (request, reply, done) => {
    if (!active) return done();
    reply.header('connection', 'close');
    done(serviceUnavailable('The server is shutting down; retry on another replica or in a moment.', retryAfterSeconds));
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    if (active && request.raw.httpVersionMajor === 1) reply.header('connection', 'close');
    done(null, payload);
  });
  const drain: Drain = {
    get active() {
      return active;
    },
    begin() {
      active = true;
    },
  };
  drains.set(app, drain);
  return drain;
}

export function drainOf(app: FastifyInstance): Drain | undefined {
  return drains.get(app);
}
