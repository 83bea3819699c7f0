import { createHash } from 'node:crypto';
import { badRequest } from '../../core/errors.js';

/** What a revision holds; its hash is the part of `_rev` after the generation. */
export interface DocumentState {
  title: string;
  content: string | null;
  projectId: number | null;
  deleted: boolean;
}

/**
 * A new revision's id: its generation and a hash of what it holds and, past the first, of its parent (so
 * that the same edit on two branches gives two revisions).
 */
export function revisionOf(generation: number, state: DocumentState, parent: string | null = null, extra: unknown = null): string {
  const fields: unknown[] = [state.title, state.content, state.projectId, state.deleted];
  if (parent !== null || extra !== null) fields.push(parent, extra);
  const body = JSON.stringify(fields);
  return `${generation}-${createHash('md5').update(body).digest('hex')}`;
}

export function etagOf(rev: string): string {
  return `"${rev}"`;
}

/** The revisions a write may replace: any (`*`), one of a list, or, when null, whatever is current. */
export type Expected = '*' | string[] | null;

/**
 * A revision as both APIs take it: `<generation>-<id>`. This server writes 32 hex digits after the dash, as CouchDB
 * does, but a replicator's new_edits:false grafts the ids it has (Couchbase Lite's 40 hex digits, any alphanumeric
 * id CouchDB takes), and the REST API must take back every `_rev` it shows. Generations up to 999,999,999: both
 * databases store them as 32-bit integers.
 */
export const REV_PATTERN = '^[1-9][0-9]{0,8}-[0-9a-zA-Z]{1,64}$';
export const REV = new RegExp(REV_PATTERN);

/** Parses `If-Match: "2-…"` (quoted or bare, comma-separated, or `*`); anything else is a 400. */
export function parseIfMatch(header: string | undefined): Expected {
  if (header === undefined) return null;
  if (header.trim() === '*') return '*';
  const revs = header.split(',').map((part) => part.trim().replace(/^"(.*)"$/, '$1'));
  if (!revs.every((rev) => REV.test(rev))) {
    throw badRequest('If-Match must name a revision such as "2-8f2c…" (or be *).', 'invalid_request');
  }
  return revs;
}

/** Combines the revision named in the header with one named in the body or query; they must agree. */
export function expectedRevision(header: string | undefined, named: string | undefined): Expected {
  const fromHeader = parseIfMatch(header);
  if (named === undefined) return fromHeader;
  if (fromHeader !== null && fromHeader !== '*' && !fromHeader.includes(named)) {
    throw badRequest(`If-Match and the revision ${named} named in the request disagree.`, 'invalid_request');
  }
  return [named];
}

export function matches(expected: Expected, rev: string): boolean {
  return expected === null || expected === '*' || expected.includes(rev);
}
