import { useState } from 'react';
import { toApiError } from '../lib/api.js';
import { useLoad } from '../lib/load.js';

/** The cursor in an `x-next` header (a relative URL), if another page exists. */
export function nextCursor(response: Response): string | undefined {
  const next = response.headers.get('x-next');
  return next ? (new URL(next, location.origin).searchParams.get('cursor') ?? undefined) : undefined;
}

/** Keyset paging by x-next: a stack of cursors, "Previous" pops, "Next" pushes. */
export function useCursorPages<T>(load: (cursor: string | undefined) => Promise<{ data?: T[]; error?: unknown; response: Response }>, deps: unknown[]) {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const loaded = useLoad(async () => {
    const res = await load(cursor);
    if (!res.response.ok) throw toApiError(res.response.status, res.error);
    return { items: res.data ?? [], next: nextCursor(res.response) };
  }, [...deps, cursor]);
  const pager = (
    <nav aria-label="Pages" className="pager">
      <button type="button" disabled={cursors.length <= 1} onClick={() => setCursors((c) => c.slice(0, -1))}>Previous page</button>
      <span>Page {cursors.length}</span>
      <button type="button" disabled={!loaded.data?.next} onClick={() => setCursors((c) => [...c, loaded.data?.next])}>Next page</button>
    </nav>
  );
  return { loaded, pager };
}

