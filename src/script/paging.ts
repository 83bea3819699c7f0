import { Type, type Static } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CursorCodec } from '../core/pagination.js';

// Lists are keyset-paged by ascending ID: a page is `id > after ORDER BY id LIMIT n+1`, as cheap at row
// 10 as at row 10,000,000, and rows inserted during a walk show up at its end, never skipped or repeated.

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 1000;

export const Limit = Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT, description: 'Page size (1…1000)' });

export const ListQuery = Type.Object(
  {
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Type.String({ maxLength: 512, description: 'Opaque: copy it from the x-next header' })),
  },
  { additionalProperties: false },
);
export type ListQuery = Static<typeof ListQuery>;

export const NEXT_HEADER = {
  'x-next': { type: 'string', description: 'Relative URL of the next page; absent on the last page' },
} as const;

interface Position {
  k: string;
  after: number;
}

/** The ID to continue after (0 for the first page). A cursor minted for another list is refused too. */
export function cursorAfter(cursors: CursorCodec, list: string, cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  const isPosition = (v: unknown): v is Position => {
    const p = v as Position;
    return typeof p === 'object' && p !== null && p.k === list && Number.isSafeInteger(p.after) && p.after >= 0;
  };
  return cursors.decode(cursor, isPosition).after;
}

/**
 * Given up to `limit + 1` rows, returns the page and sets `x-next` when the extra row shows that more
 * remain: the same path with the same limit and a cursor after the page's last ID.
 */
export function pageOf<T>(
  cursors: CursorCodec,
  request: FastifyRequest,
  reply: FastifyReply,
  list: string,
  rows: T[],
  limit: number,
  idOf: (row: T) => number,
): T[] {
  if (rows.length <= limit) return rows;
  const page = rows.slice(0, limit);
  const cursor = cursors.encode({ k: list, after: idOf(page[page.length - 1]) } satisfies Position);
  const path = request.url.split('?')[0];
  reply.header('x-next', `${path}?limit=${limit}&cursor=${encodeURIComponent(cursor)}`);
  return page;
}
