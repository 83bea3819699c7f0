import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import PouchDB from 'pouchdb';
import memory from 'pouchdb-adapter-memory';

PouchDB.plugin(memory);

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Pouch = any;

let counter = 0;

/** A fresh in-memory PouchDB, as an app would have in a browser. */
export function localDb(): Pouch {
  return new PouchDB(`local-${process.pid}-${Date.now()}-${counter++}`, { adapter: 'memory' });
}

/** The server's database `db`, with the key sent as HTTP Basic password (or as X-API-Key). */
export function remoteDb(base: string, db: string, key: string, via: 'basic' | 'header' = 'basic'): Pouch {
  const url = `${base}/dreamscript/couch/${db}`;
  if (via === 'basic') return new PouchDB(url.replace('http://', `http://replicator:${encodeURIComponent(key)}@`), { skip_setup: false });
  return new PouchDB(url, {
    fetch: (u: string, opts: { headers: Headers }) => {
      opts.headers.set('X-API-Key', key);
      return PouchDB.fetch(u, opts);
    },
  });
}

/** Makes the app listen on a free local port (PouchDB talks HTTP); answers its base URL. */
export async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

export { PouchDB };
