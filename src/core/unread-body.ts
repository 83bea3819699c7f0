import type { FastifyInstance } from 'fastify';

/** A body a route refused without reading is read and dropped when it is at most this long (the rest: see below). */
export const UNREAD_BODY_DRAIN_LIMIT = 64 * 1024 * 1024;

/**
 * Fastify answers a body it refuses before reading it (a Content-Length over the route's limit: 413; a content
 * type no parser takes: 415) with `Connection: close`, and Node then closes the socket while the client is still
 * sending: the kernel answers the unread bytes with a reset, which can reach the client before the answer does
 * (measured: 4 in 60 `curl` POSTs of a 3 MiB Dreamscript document ended in "send failure", no status; with
 * `Expect: 100-continue` the client got only the `100`). When the announced body is at most
 * UNREAD_BODY_DRAIN_LIMIT, the connection is kept instead: Node reads the rest and drops it (what it does for any
 * body a handler leaves unread), the client gets its answer, and the connection serves its next request. A
 * longer one still closes (reading gigabytes to say no costs more than a client that loses the answer); a body
 * already partly read (refused while it arrived) always closes, and so does every answer while the server drains.
 */
export function installUnreadBodyDrain(app: FastifyInstance): void {
  // Callback style: an async hook costs a promise per request on every route.
  app.addHook('onSend', (request, reply, payload, done) => {
    const raw = request.raw;
    if (reply.getHeader('connection') === 'close' && raw.httpVersionMajor === 1 && !raw.complete && !raw.readableDidRead) {
      const length = Number(request.headers['content-length']);
      if (Number.isSafeInteger(length) && length <= UNREAD_BODY_DRAIN_LIMIT) reply.removeHeader('connection');
    }
    done(null, payload);
  });
}
