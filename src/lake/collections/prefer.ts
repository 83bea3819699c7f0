import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * RFC 7240 `Prefer: return=minimal`: the member routes then leave out the full `members` list, so their
 * cost stays flat however large the collection grows. Answers whether it applies (and says so in
 * `Preference-Applied`).
 */
export function wantsMinimal(request: FastifyRequest, reply: FastifyReply): boolean {
  const header = request.headers.prefer;
  const values = (Array.isArray(header) ? header.join(',') : header ?? '').split(',');
  const minimal = values.some((v) => /^\s*return\s*=\s*"?minimal"?\s*(;.*)?$/i.test(v));
  if (minimal) reply.header('preference-applied', 'return=minimal');
  return minimal;
}
