import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * While a request's body is being received, its connection may stay silent at most a set number of seconds; then
 * it is closed. The server has no overall request timeout (a 5 GiB upload over a slow link may take hours), so
 * without this a client that stops sending half way through a body would hold its socket, the bytes buffered so
 * far and whatever its route holds (a staging file, a share of the CouchDB body budget) for good.
 *
 * The watch starts when the request arrives with a body still to come and ends once the body has been read or
 * the response is over, whichever is first. It uses the socket's own inactivity timer, so it costs no timer of
 * its own per request; injected requests (`app.inject`) have no socket and are not watched.
 */
interface Watch {
  socket: Socket;
  /** The socket's timeout before the watch (Node's server timeout, 0 under Fastify), put back when it ends. */
  previous: number;
  seconds: number;
  onIdle: () => void;
}

const watches = new WeakMap<IncomingMessage, Watch>();

/** Watches every request's body with `seconds` of allowed silence (a route may change it with watchBody). */
export function installBodyIdleWatch(app: FastifyInstance, seconds: number): void {
  app.addHook('onRequest', (request, reply, done) => {
    watchBody(request, reply, seconds);
    done();
  });
}

/** Arms (or re-arms with a new allowance) the watch on this request's body; no-op when no body is still to come. */
export function watchBody(request: FastifyRequest, reply: FastifyReply, seconds: number): void {
  const raw = request.raw;
  const existing = watches.get(raw);
  if (existing) {
    existing.seconds = seconds;
    existing.socket.setTimeout(seconds * 1000);
    return;
  }
  if (raw.complete || !hasBody(raw)) return;
  const socket = raw.socket as Socket | null;
  if (typeof socket?.setTimeout !== 'function' || socket.destroyed) return;
  const watch: Watch = {
    socket,
    previous: socket.timeout ?? 0,
    seconds,
    onIdle: () => {
      request.log.info({ seconds: watch.seconds }, 'request body stalled: connection closed');
      socket.destroy();
    },
  };
  watches.set(raw, watch);
  socket.on('timeout', watch.onIdle);
  socket.setTimeout(seconds * 1000);
  // The body is in: the connection goes back to the server's own timeouts.
  raw.once('end', () => endWatch(raw, true));
  // The response is over first (a refused body, a route that never read it): Node then sets the socket's
  // keep-alive timeout itself, which must not be overwritten.
  reply.raw.once('finish', () => endWatch(raw, false));
  reply.raw.once('close', () => endWatch(raw, false));
}

/** Stops watching this request's body (for routes that hold a body unread on purpose, e.g. while it waits its turn). */
export function unwatchBody(request: FastifyRequest): void {
  endWatch(request.raw, true);
}

function endWatch(raw: IncomingMessage, restoreTimeout: boolean): void {
  const watch = watches.get(raw);
  if (!watch) return;
  watches.delete(raw);
  watch.socket.off('timeout', watch.onIdle);
  if (restoreTimeout && !watch.socket.destroyed) watch.socket.setTimeout(watch.previous);
}

function hasBody(raw: IncomingMessage): boolean {
  const length = raw.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return raw.headers['transfer-encoding'] !== undefined;
}
