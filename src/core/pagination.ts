import { createHmac, timingSafeEqual } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { badRequest } from './errors.js';

export const MAX_PAGE_SIZE = 200;
/**
 * DECISIONS: larger pageSize values are clamped to MAX_PAGE_SIZE. Beyond this bound (as for `page`) a value is no
 * page size at all: 400.
 */
export const REJECTED_PAGE_SIZE = 1_000_000_000;

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

/**
 * The total of a page read with a window count (`count(*) over()` as `total`): its first row carries it. A page past
 * the end has no row to carry it, so only then does `countApart` run (the one case that costs a second statement).
 */
export async function windowTotal(rows: readonly { total: number | string }[], page: Page, countApart: () => Promise<number | string>): Promise<number> {
  if (rows.length) return Number(rows[0].total);
  return page.offset === 0 ? 0 : Number(await countApart());
}

/** Response fields every paginated list carries. */
export const PageFields = {
  page: Type.Integer(),
  pageSize: Type.Integer(),
  total: Type.Integer(),
  totalPages: Type.Integer(),
};

// Opaque keyset cursors: base64url JSON plus an HMAC with a key derived from the server's secret, so that an
// edited or forged cursor is caught (400) instead of silently paging from somewhere else.
export interface CursorCodec {
  encode(value: unknown): string;
  decode<T>(cursor: string, isValid: (v: unknown) => v is T): T;
}

export function createCursorCodec(serverSecret: string): CursorCodec {
  const key = createHmac('sha256', serverSecret).update('dreamlake-cursor-key-v1').digest();
  const mac = (body: string) => createHmac('sha256', key).update(body).digest();
  const invalid = () => badRequest('Invalid cursor.', 'invalid_cursor');
  return {
    encode(value) {
      const body = Buffer.from(JSON.stringify(value)).toString('base64url');
      return `${body}.${mac(body).subarray(0, 16).toString('base64url')}`;
    },
    decode(cursor, isValid) {
      const [body, check, extra] = cursor.split('.');
      if (!body || !check || extra !== undefined) throw invalid();
      const given = Buffer.from(check, 'base64url');
      const expected = mac(body).subarray(0, 16);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
      let value: unknown;
      try {
        value = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
      } catch {
        throw invalid();
      }
      if (!isValid(value)) throw invalid();
      return value;
    },
  };
}
