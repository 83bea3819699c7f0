import { connect, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/** From now on, the most bytes any of the app's sockets has queued for its client (its write queue) at a call. */
export function socketQueues(app: FastifyInstance): () => number {
  const sockets: Socket[] = [];
  app.server.on('connection', (s: Socket) => sockets.push(s));
  return () => Math.max(0, ...sockets.filter((s) => !s.destroyed).map((s) => s.writableLength));
}

/** The body of an HTTP/1.1 answer sent with `Transfer-Encoding: chunked`, as one string. */
export function dechunk(raw: string): string {
  let out = '';
  for (let at = 0; ; ) {
    const eol = raw.indexOf('\r\n', at);
    const size = parseInt(raw.slice(at, eol), 16);
    if (!size) return out;
    out += raw.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}

/**
 * GET `path` over a raw socket whose client reads nothing for `pauseMs`: `held` is what `queued` said the server
 * had queued for it then; `head` and `body` (de-chunked) are the whole answer, read once the client resumed.
 */
export function pausedGet(origin: URL, headers: Record<string, string>, path: string, queued: () => number, pauseMs: number) {
  return pausedPost(origin, headers, path, undefined, queued, pauseMs);
}

/** pausedGet with a JSON body, POSTed (a GET when `body` is undefined). */
export async function pausedPost(origin: URL, headers: Record<string, string>, path: string, body: unknown, queued: () => number, pauseMs: number) {
  const client = connect(Number(origin.port), origin.hostname);
  client.on('error', () => {});
  await new Promise((r) => client.once('connect', r));
  client.pause();
  const payload = body === undefined ? '' : JSON.stringify(body);
  const all = body === undefined ? headers : { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) };
  const lines = Object.entries(all).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  client.write(`${body === undefined ? 'GET' : 'POST'} ${path} HTTP/1.1\r\nhost: ${origin.host}\r\n${lines}connection: close\r\n\r\n${payload}`);
  await new Promise((r) => setTimeout(r, pauseMs));
  const held = queued();
  let text = '';
  const ended = new Promise<void>((r) => client.once('close', () => r()));
  client.setEncoding('utf8');
  client.on('data', (chunk: string) => (text += chunk));
  client.resume();
  await ended;
  const [head, ...rest] = text.split('\r\n\r\n');
  const answer = rest.join('\r\n\r\n');
  return { held, head, body: /transfer-encoding: chunked/i.test(head) ? dechunk(answer) : answer };
}
