import { toApiError } from '../lib/api.js';
import { useLoad } from '../lib/load.js';
import { usePosition } from '../lib/router.js';

/** The cursor in an `x-next` header (a relative URL), if another page exists. */
export function nextCursor(response: Response): string | undefined {
  const next = response.headers.get('x-next');
  return next ? (new URL(next, location.origin).searchParams.get('cursor') ?? undefined) : undefined;
}

/** Keyset paging by x-next, the cursor kept in the address (`?cursor=`): Next adds a history entry, Previous goes back. */
export function useCursorPages<T>(load: (cursor: string | undefined) => Promise<{ data?: T[]; error?: unknown; response: Response }>, deps: unknown[]) {
  const position = usePosition('cursor');
  const cursor = position.value;
  const loaded = useLoad(async () => {
    const res = await load(cursor);
    if (!res.response.ok) throw toApiError(res.response.status, res.error);
    return { items: res.data ?? [], next: nextCursor(res.response) };
  }, [...deps, cursor]);
  const pager = (
    <nav aria-label="Pages" className="pager">
      <button type="button" disabled={cursor === undefined} onClick={position.previous}>Previous page</button>
      <span>{position.page === undefined ? 'A later page' : `Page ${position.page}`}</span>
      <button type="button" disabled={!loaded.data?.next} onClick={() => loaded.data?.next && position.next(loaded.data.next)}>Next page</button>
    </nav>
  );
  return { loaded, pager };
}

