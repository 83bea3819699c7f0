import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * A connection whose transfer stalls is closed: a request body that gets no byte for `[server] stall_timeout`
 * seconds while it is received, or a response whose bytes the client has not taken for as long. The server has
 * no overall request timeout (a 5 GiB upload or download over a slow link may take hours), so without this a
 * client that stops half way would hold its socket, the bytes buffered for it, an open file or an S3 connection,
 * a staging file or a share of the CouchDB body budget, for good. A server that is only waiting (a long-poll
 * feed, a route waiting for a lock) is not a stall: the connection stays.
 *
 * It uses the socket's own inactivity timer, which Node refreshes on every read and every write that makes
 * progress, and listens on the response, which tells Node's server that the timeout is handled here. After the
 * response, Node's keep-alive timeout takes the socket over as before. Injected requests have no socket.
 */
interface Transfer {
  socket: Socket;
  seconds: number;
  /** The body is held unread on purpose (it waits its turn): its silence is the server's, not the client's. */
  bodyOnHold: boolean;
}

const transfers = new WeakMap<IncomingMessage, Transfer>();

/** Guards every request's transfers with `seconds` of allowed stall (a route may change it with guardTransfer). */
export function installStallGuard(app: FastifyInstance, seconds: number): void {
  app.addHook('onRequest', (request, reply, done) => {
    guardTransfer(request, reply, seconds);
    done();
  });
}

/** Starts guarding this request's body and response, or changes the allowance of a guard already on. */
export function guardTransfer(request: FastifyRequest, reply: FastifyReply, seconds: number): void {
  const raw = request.raw;
  const existing = transfers.get(raw);
  if (existing) {
    existing.seconds = seconds;
    existing.bodyOnHold = false;
    existing.socket.setTimeout(seconds * 1000);
    return;
  }
  const socket = raw.socket as Socket | null;
  if (typeof socket?.setTimeout !== 'function' || socket.destroyed) return;
  const transfer: Transfer = { socket, seconds, bodyOnHold: false };
  transfers.set(raw, transfer);
  const res: ServerResponse = reply.raw;
  res.on('timeout', () => {
    const why = stalled(raw, transfer);
    if (!why) return; // the server is waiting, not the client
    request.log.info({ seconds: transfer.seconds }, `${why}: connection closed`);
    socket.destroy();
  });
  socket.setTimeout(seconds * 1000);
}

/** The body is held unread on purpose until guardTransfer is called again (e.g. while it waits for budget). */
export function holdBody(request: FastifyRequest): void {
  const transfer = transfers.get(request.raw);
  if (transfer) transfer.bodyOnHold = true;
}

function stalled(raw: IncomingMessage, transfer: Transfer): string | undefined {
  // Body bytes that arrived but wait to be read: the server is the slow side (its store is busy, say), not the client.
  if (!raw.complete && hasBody(raw)) return transfer.bodyOnHold || raw.readableLength > 0 ? undefined : 'request body stalled';
  // Bytes queued that the client has not taken (a write in progress would have refreshed the timer).
  if (transfer.socket.writableLength > 0) return 'response not read by the client';
  return undefined;
}

function hasBody(raw: IncomingMessage): boolean {
  const length = raw.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return raw.headers['transfer-encoding'] !== undefined;
}
