import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import type { BlobStore } from '../../core/blobs/store.js';
import type { Attachments } from '../documents/commit.js';
import { ancestry, generationOf, type RevNode } from '../documents/tree.js';
import { badRequest, couchError } from './errors.js';
import { boundedJson } from './http.js';
import { readBlob } from './read.js';
import { md5Digest } from './write.js';

// CouchDB's multipart document bodies, which CouchDB's own replicator speaks (PouchDB never does):
// it reads revisions with `GET /{db}/{doc}?open_revs=…` and `Accept: multipart/mixed` (one part per revision,
// a revision with attachments being a nested multipart/related whose attachments "follow" the JSON), and
// pushes a document with attachments as `PUT /{db}/{doc}?new_edits=false` with a multipart/related body.

/** Largest decoded attachment accepted from a gzip-encoded part (the request body limit of the endpoint). */
const MAX_DECODED = 256 * 1024 * 1024;

// ---- Reading: revisions as multipart ------------------------------------------------------------------

export const wantsMultipart = (accept: unknown, type: 'multipart/mixed' | 'multipart/related') =>
  typeof accept === 'string' && accept.toLowerCase().includes(type);

/**
 * The generation of the newest revision of `atts_since` that is `rev` or one of its ancestors (0 when none is):
 * attachments whose revpos is above it are sent, the others are stubs, as the client has them already.
 */
export function attsSinceGeneration(tree: RevNode[] | undefined, rev: string, attsSince: string[] | undefined): number {
  if (!attsSince?.length) return 0;
  const path = tree?.length ? ancestry(new Map(tree.map((n) => [n.rev, n])), rev) : [rev];
  const known = new Set(path);
  return Math.max(0, ...attsSince.filter((r) => known.has(r)).map(generationOf));
}

/** A presented document (attachments as stubs) whose attachments above `sinceGeneration` are marked `follows`. */
export function markFollows(doc: Record<string, unknown>, attachments: Attachments | null, sinceGeneration: number) {
  const follows: { name: string; content_type: string; length: number; sha256: string }[] = [];
  const stubs = doc._attachments as Record<string, Record<string, unknown>> | undefined;
  if (!stubs || !attachments) return follows;
  for (const [name, a] of Object.entries(attachments)) {
    if (a.revpos <= sinceGeneration) continue;
    const { stub: _stub, ...rest } = stubs[name];
    stubs[name] = { ...rest, follows: true };
    follows.push({ name, content_type: a.content_type, length: a.length, sha256: a.sha256 });
  }
  return follows;
}

export interface MultipartRevision {
  doc: Record<string, unknown>;
  follows: ReturnType<typeof markFollows>;
}

const quoted = (s: string) => s.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\r\n]/g, ' ');

/** One revision: plain JSON, or (when attachments follow) a multipart/related body. */
function revisionPart(r: MultipartRevision, blobs: BlobStore): { contentType: string; body: () => AsyncGenerator<Buffer | string> } {
  const json = JSON.stringify(r.doc);
  if (!r.follows.length) {
    return {
      contentType: 'application/json',
      body: async function* () {
        yield json;
      },
    };
  }
  const boundary = randomUUID().replace(/-/g, '');
  return {
    contentType: `multipart/related; boundary="${boundary}"`,
    body: async function* () {
      yield `--${boundary}\r\nContent-Type: application/json\r\n\r\n${json}`;
      for (const a of r.follows) {
        yield `\r\n--${boundary}\r\nContent-Disposition: attachment; filename="${quoted(a.name)}"\r\nContent-Type: ${a.content_type}\r\nContent-Length: ${a.length}\r\n\r\n`;
        for await (const chunk of await blobs.get(a.sha256)) yield chunk as Buffer;
      }
      yield `\r\n--${boundary}--`;
    },
  };
}

/** `GET …?open_revs=` for `Accept: multipart/mixed`: each revision a part, a missing one an error part. */
export function openRevsMultipart(entries: (MultipartRevision | { missing: string })[], blobs: BlobStore) {
  const boundary = randomUUID().replace(/-/g, '');
  async function* stream() {
    yield `--${boundary}`;
    for (const e of entries) {
      if ('missing' in e) {
        yield `\r\nContent-Type: application/json; error="true"\r\n\r\n${JSON.stringify({ missing: e.missing })}\r\n--${boundary}`;
        continue;
      }
      const part = revisionPart(e, blobs);
      yield `\r\nContent-Type: ${part.contentType}\r\n\r\n`;
      yield* part.body();
      yield `\r\n--${boundary}`;
    }
    yield '--';
  }
  return { contentType: `multipart/mixed; boundary="${boundary}"`, stream: Readable.from(stream()) };
}

/** Attachments marked `follows` given inline instead (base64), for a JSON answer. */
export async function inlineFollows(doc: Record<string, unknown>, follows: MultipartRevision['follows'], blobs: BlobStore) {
  const atts = doc._attachments as Record<string, Record<string, unknown>>;
  for (const a of follows) {
    const { follows: _f, length: _l, ...rest } = atts[a.name];
    atts[a.name] = { ...rest, data: (await readBlob(blobs, a.sha256)).toString('base64') };
  }
  return doc;
}

/** `GET /{db}/{doc}?attachments=true` for `Accept: multipart/related`: the document, its attachments following. */
export function documentMultipart(r: MultipartRevision, blobs: BlobStore) {
  const part = revisionPart(r, blobs);
  return { contentType: part.contentType, stream: Readable.from(part.body()) };
}

// ---- Writing: a document with its attachments as multipart/related --------------------------------------

interface Part {
  headers: Record<string, string>;
  data: Buffer;
}

export function isMultipartRelated(contentType: unknown): contentType is string {
  return typeof contentType === 'string' && /^\s*multipart\/related\s*;/i.test(contentType);
}

function boundaryOf(contentType: string): string {
  const m = /;\s*boundary=(?:"([^"]{1,200})"|([^\s;"]{1,200}))/i.exec(contentType);
  if (!m) throw badRequest('multipart/related needs a boundary.');
  return m[1] ?? m[2];
}

/** The parts of a multipart body held in memory (RFC 2046: preamble, `--b` CRLF headers CRLF CRLF data, `--b--`). */
export function splitMultipart(contentType: string, body: Buffer): Part[] {
  const delimiter = Buffer.from(`--${boundaryOf(contentType)}`);
  let at = body.indexOf(delimiter);
  if (at < 0) throw badRequest('The multipart body has no part.');
  const parts: Part[] = [];
  for (;;) {
    at += delimiter.length;
    if (body.subarray(at, at + 2).toString() === '--') return parts;
    const lineEnd = body.indexOf('\r\n', at);
    if (lineEnd < 0) throw badRequest('The multipart body ends before its closing boundary.');
    const headersEnd = body.indexOf('\r\n\r\n', lineEnd);
    const headerText = headersEnd === lineEnd ? '' : body.subarray(lineEnd + 2, headersEnd < 0 ? lineEnd : headersEnd).toString('latin1');
    const dataStart = headersEnd < 0 ? -1 : headersEnd + 4;
    const next = dataStart < 0 ? -1 : body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), dataStart - 2);
    if (dataStart < 0 || next < 0) throw badRequest('The multipart body ends before its closing boundary.');
    const headers: Record<string, string> = {};
    for (const line of headerText.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    parts.push({ headers, data: body.subarray(dataStart, Math.max(dataStart, next)) });
    at = next + 2;
  }
}

function decoded(name: string, data: Buffer, encoding: unknown): Buffer {
  if (encoding === undefined || encoding === null || encoding === 'identity') return data;
  if (encoding !== 'gzip') throw badRequest(`Attachment ${name}: unknown encoding ${String(encoding)}.`);
  try {
    return gunzipSync(data, { maxOutputLength: MAX_DECODED });
  } catch {
    throw badRequest(`Attachment ${name}: its gzip data cannot be decoded.`);
  }
}

/**
 * The JSON document of a multipart/related body with every attachment that `follows` turned into inline data,
 * so that it goes through the same checks as any other document. Parts are matched to attachments by their
 * Content-Disposition filename, else in the order the JSON lists them (as CouchDB sends them).
 */
export function documentFromMultipart(contentType: string, body: Buffer): Record<string, unknown> {
  const [first, ...rest] = splitMultipart(contentType, body);
  if (!first) throw badRequest('The multipart body has no part.');
  const text = first.data.toString('utf8');
  boundedJson(text);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw couchError(400, 'bad_request', 'invalid UTF-8 JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw badRequest('Document must be a JSON object');
  const atts = (doc as { _attachments?: unknown })._attachments;
  if (typeof atts !== 'object' || atts === null || Array.isArray(atts)) {
    if (rest.length) throw badRequest('The multipart body has parts but the document has no attachment that follows.');
    return doc as Record<string, unknown>;
  }
  const byName = new Map<string, Part>();
  for (const p of rest) {
    const m = /filename="((?:[^"\\]|\\.)*)"/i.exec(p.headers['content-disposition'] ?? '');
    if (m) byName.set(m[1].replace(/\\(.)/g, '$1'), p);
  }
  let next = 0;
  const out: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(atts as Record<string, unknown>)) {
    const a = raw as Record<string, unknown>;
    if (typeof a !== 'object' || a === null || a.follows !== true) {
      out[name] = raw;
      continue;
    }
    const part = byName.get(name) ?? rest[next];
    next++;
    if (!part) throw badRequest(`Attachment ${name} follows, but the multipart body has no part for it.`);
    const data = decoded(name, part.data, a.encoding);
    if (a.length !== undefined && a.length !== data.length) throw badRequest(`Attachment ${name}: length ${String(a.length)} does not match its data (${data.length} bytes).`);
    const { follows: _f, length: _l, encoding: _e, encoded_length: _el, digest, ...kept } = a;
    // A digest of the encoded bytes (as a gzip-storing CouchDB may send it) is checked here; otherwise it is
    // passed on and checked against the data like an inline attachment's.
    const encodedMatches = digest !== undefined && data !== part.data && digest === md5Digest(part.data);
    out[name] = { ...kept, ...(digest !== undefined && !encodedMatches && { digest }), data: data.toString('base64') };
  }
  if (next < rest.length && byName.size === 0) throw badRequest('The multipart body has more parts than attachments that follow.');
  return { ...(doc as Record<string, unknown>), _attachments: out };
}
