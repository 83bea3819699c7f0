import { createHash } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { badRequest } from './errors.js';

export const MAX_PAGE_SIZE = 200;
/** Above this a pageSize is a mistake rather than a wish for "as many as allowed": 400, not clamped. */
export const REJECTED_PAGE_SIZE = 1000;

export const PageQuery = Type.Object({
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000_000, default: 1, description: 'Page number (1-based)' })),
  pageSize: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: REJECTED_PAGE_SIZE,
      default: 50,
      description: `Items per page (values above ${MAX_PAGE_SIZE} are clamped to ${MAX_PAGE_SIZE})`,
    }),
  ),
});
export type PageQuery = Static<typeof PageQuery>;

export interface Page {
  page: number;
  pageSize: number;
  limit: number;
  offset: number;
}

export function toPage(query: { page?: number; pageSize?: number }): Page {
  const page = query.page ?? 1;
  const pageSize = Math.min(query.pageSize ?? 50, MAX_PAGE_SIZE);
  return { page, pageSize, limit: pageSize, offset: (page - 1) * pageSize };
}

export function pageEnvelope(page: Page, total: number) {
  return {
    page: page.page,
    pageSize: page.pageSize,
    total,
    totalPages: Math.ceil(total / page.pageSize),
  };
}

/** Response fields every paginated list carries. */
export const PageFields = {
  page: Type.Integer(),
  pageSize: Type.Integer(),
  total: Type.Integer(),
  totalPages: Type.Integer(),
};

// Opaque keyset cursors: base64url JSON plus a short digest, so that an edited cursor is caught (400)
// instead of silently paging from somewhere else.
function digest(body: string): string {
  return createHash('sha256').update(`dreamlake-cursor:${body}`).digest('base64url').slice(0, 12);
}

export function encodeCursor(value: unknown): string {
  const body = Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${body}.${digest(body)}`;
}

export function decodeCursor<T>(cursor: string, isValid: (v: unknown) => v is T): T {
  const [body, check, extra] = cursor.split('.');
  if (!body || !check || extra !== undefined || digest(body) !== check) throw badRequest('Invalid cursor.', 'invalid_cursor');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    throw badRequest('Invalid cursor.', 'invalid_cursor');
  }
  if (!isValid(value)) throw badRequest('Invalid cursor.', 'invalid_cursor');
  return value;
}
