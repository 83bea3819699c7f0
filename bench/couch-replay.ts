// The server side of a PouchDB replication, without PouchDB: the requests PouchDB 9 sends to the remote
// database for a one-shot pull or push (batch by batch, one request at a time), made with plain fetch and
// parsed, nothing else. It gives each server's own docs/s, with the same client cost for every server.
// Pull, per batch: GET _changes?style=all_docs&since=…&limit=…, POST _bulk_get?revs=true&latest=true,
// GET /{db} (PouchDB's progress info), GET + PUT _local/{checkpoint}. Push, per batch: POST _revs_diff,
// POST _bulk_docs {new_edits:false} with _revisions, GET + PUT _local/{checkpoint}.
import { createHash } from 'node:crypto';

export interface ReplayTarget {
  /** URL of the database. */
  url: string;
  headers: Record<string, string>;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
async function call(t: ReplayTarget, method: string, path: string, body?: unknown, ok = [200, 201]): Promise<any> {
  const res = await fetch(`${t.url}${path}`, { method, headers: t.headers, ...(body !== undefined && { body: JSON.stringify(body) }) });
  const parsed = await res.json();
  if (!ok.includes(res.status)) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(parsed).slice(0, 200)}`);
  return parsed;
}

async function checkpoint(t: ReplayTarget, id: string, seq: unknown) {
  const doc = await call(t, 'GET', `/_local/${id}`, undefined, [200, 404]);
  const rev = doc.error ? undefined : doc._rev;
  await call(t, 'PUT', `/_local/${id}`, { _id: `_local/${id}`, ...(rev && { _rev: rev }), history: [{ last_seq: seq, session_id: 'replay' }], last_seq: seq });
}

/** Pulls every document of the database; answers how many were read. */
export async function replayPull(t: ReplayTarget, batch: number): Promise<number> {
  const cp = `replay-pull-${Math.random().toString(36).slice(2)}`;
  let since: unknown = 0;
  let read = 0;
  for (;;) {
    const changes = await call(t, 'GET', `/_changes?style=all_docs&since=${encodeURIComponent(String(since))}&limit=${batch}`);
    if (!changes.results.length) break;
    const docs = changes.results.flatMap((c: any) => c.changes.map((ch: any) => ({ id: c.id, rev: ch.rev })));
    const got = await call(t, 'POST', '/_bulk_get?revs=true&latest=true', { docs });
    for (const r of got.results) for (const d of r.docs) if (d.ok) read++;
    since = changes.last_seq;
    await call(t, 'GET', '');
    await checkpoint(t, cp, since);
  }
  return read;
}

/** A document as PouchDB pushes it: with its first revision and its _revisions. */
export function pushedDoc(doc: Record<string, unknown>): Record<string, unknown> {
  const hash = createHash('md5').update(JSON.stringify(doc)).digest('hex');
  return { ...doc, _rev: `1-${hash}`, _revisions: { start: 1, ids: [hash] } };
}

/** Pushes `docs` (from pushedDoc) in batches; answers how many the server was missing and got. */
export async function replayPush(t: ReplayTarget, docs: Record<string, unknown>[], batch: number): Promise<number> {
  const cp = `replay-push-${Math.random().toString(36).slice(2)}`;
  let written = 0;
  for (let i = 0; i < docs.length; i += batch) {
    const part = docs.slice(i, i + batch);
    const diff = await call(t, 'POST', '/_revs_diff', Object.fromEntries(part.map((d) => [d._id, [d._rev]])));
    const missing = part.filter((d) => diff[d._id as string]);
    if (missing.length) {
      const res = await call(t, 'POST', '/_bulk_docs', { docs: missing, new_edits: false });
      if (res.some((r: any) => r.error)) throw new Error(`_bulk_docs: ${JSON.stringify(res.find((r: any) => r.error))}`);
    }
    written += missing.length;
    await checkpoint(t, cp, i + part.length);
  }
  return written;
}
