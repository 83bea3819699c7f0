import type { FastifyReply } from 'fastify';
import type { Database } from './db/database.js';

const JSON_TYPE = 'application/json; charset=utf-8';
/** Bodies above this are built afresh each time: they would crowd out many small ones. */
const MAX_BODY_CHARS = 256 * 1024;
const MAX_TOTAL_CHARS = 32 * 1024 * 1024;

export interface ResponseCache {
  /**
   * Answers with `compute()`'s value, serialized by the route's response schema. While the database has not
   * changed since, a later request for the same URL by the same `viewer` gets the same body without running
   * `compute` again. So the body may depend only on the data, the URL (path, query, mount) and the viewer.
   */
  send(reply: FastifyReply, viewer: string, compute: () => Promise<unknown>): Promise<FastifyReply>;
}

interface Entry {
  version: string;
  body: string;
}

/**
 * Hot reads on SQLite cost far more in the statement than in anything else, and they repeat: the same user
 * reading the same collection. An entry is valid only for the exact data version it was built from
 * (Database.dataVersion: every local write and every other connection's commit changes it), so an answer is
 * never older than the data; any write anywhere empties the cache in effect. The version is read before
 * the data, so a write racing the read can only make an entry stale-tagged, never stale-served. Where no
 * cheap version exists (PostgreSQL, whose replicas write behind our back) nothing is cached.
 */
export function createResponseCache(database: Database, maxEntries: number): ResponseCache {
  const entries = new Map<string, Entry>();
  let totalChars = 0;

  const forget = (key: string) => {
    const old = entries.get(key);
    if (!old) return;
    entries.delete(key);
    totalChars -= old.body.length;
  };

  const remember = (key: string, entry: Entry) => {
    forget(key);
    if (entry.body.length > MAX_BODY_CHARS) return;
    // Oldest first: a Map iterates in insertion order.
    for (const oldest of entries.keys()) {
      if (entries.size < maxEntries && totalChars + entry.body.length <= MAX_TOTAL_CHARS) break;
      forget(oldest);
    }
    entries.set(key, entry);
    totalChars += entry.body.length;
  };

  return {
    async send(reply, viewer, compute) {
      const key = `${viewer}\n${reply.request.url}`;
      const version = maxEntries > 0 ? database.dataVersion() : null;
      if (version !== null) {
        const hit = entries.get(key);
        if (hit?.version === version) return reply.type(JSON_TYPE).send(hit.body);
      }
      // Fastify's schema serializers (the only ones here) return text.
      const body = reply.serialize(await compute()) as string;
      if (version !== null) remember(key, { version, body });
      return reply.type(JSON_TYPE).send(body);
    },
  };
}
