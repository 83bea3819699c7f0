/** A single-range request resolved against a size: inclusive offsets, `unsatisfiable` (416), or null (send all). */
export type RangeDecision = { start: number; end: number } | 'unsatisfiable' | null;

const SINGLE = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i;

/**
 * `bytes=a-b`, `bytes=a-` and the suffix `bytes=-n`. Anything else (several ranges, other units, garbage)
 * is ignored and the whole content is sent, as RFC 9110 allows.
 */
export function decideRange(header: string | undefined, size: number): RangeDecision {
  const m = header === undefined ? null : SINGLE.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  if (start >= size) return 'unsatisfiable';
  const last = m[2] === '' ? size - 1 : Number(m[2]);
  if (last < start) return null;
  return { start, end: Math.min(last, size - 1) };
}

/**
 * Headers for bytes a client uploaded, served from this origin (files, attachments): never sniffed into another
 * type, and run in a sandbox with nothing allowed if a browser opens them, so an uploaded HTML page cannot act as
 * a page of this origin (the web console's).
 */
export const UPLOADED_CONTENT_HEADERS = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "sandbox; default-src 'none'",
} as const;
