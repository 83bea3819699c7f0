import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent, type ReactNode } from 'react';
import { BASE } from './base.js';

const listeners = new Set<() => void>();
window.addEventListener('popstate', () => listeners.forEach((l) => l()));

function subscribe(l: () => void) {
  listeners.add(l);
  return () => listeners.delete(l);
}

/** The path inside the console ("lake/alice/robots/files/a/b"), without the mount. */
export function currentPath(): string {
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : '';
  return path.replace(/\/+$/, '');
}

export function useLocation(): { path: string; search: URLSearchParams } {
  const href = useSyncExternalStore(subscribe, () => location.pathname + location.search);
  const search = new URLSearchParams(href.includes('?') ? href.slice(href.indexOf('?')) : '');
  return { path: currentPath(), search };
}

/**
 * The current URL's query parameters as page state, so a reload, the back button and a copied link keep a page,
 * a sort or filters. `update` sets (or, with '' or null, removes) some of them; `replace` leaves no history entry
 * (typing in a filter), otherwise Back returns to the previous state. Moving to another path drops them.
 */
export function useSearch(): [URLSearchParams, (changes: Record<string, string | null>, replace?: boolean, state?: unknown) => void] {
  const { search } = useLocation();
  const update = (changes: Record<string, string | null>, replace = false, state: unknown = null) => {
    const params = new URLSearchParams(location.search);
    for (const [name, value] of Object.entries(changes)) {
      if (value === null || value === '') params.delete(name);
      else params.set(name, value);
    }
    const query = params.toString();
    const url = location.pathname + (query ? `?${query}` : '');
    if (url === location.pathname + location.search) return;
    if (replace) history.replaceState(state, '', url);
    else history.pushState(state, '', url);
    listeners.forEach((l) => l());
  };
  return [search, update];
}

/**
 * A keyset position (a cursor, or the last ID seen) kept in the address as `name`: Next adds a history entry, so
 * Back (or Previous) returns to the page before; a reload or a copied link opens the same page. `page` is the page's
 * number when this tab paged to it (unknown when the address was opened as it is).
 */
export function usePosition(name: string) {
  const [search, update] = useSearch();
  const value = search.get(name) || undefined;
  const depth = (history.state as { page?: number } | null)?.page;
  const page = value === undefined ? 1 : depth;
  return {
    value,
    page,
    next: (position: string) => update({ [name]: position }, false, { page: page === undefined ? undefined : page + 1 }),
    previous: () => (page !== undefined && page > 1 ? history.back() : update({ [name]: null })),
  };
}

/** One query parameter as the state of a filter field: typing replaces the history entry ('' removes it). */
export function useSearchValue(name: string, resets: string[] = []): [string, (value: string) => void] {
  const [search, update] = useSearch();
  return [search.get(name) ?? '', (value) => update({ [name]: value, ...Object.fromEntries(resets.map((r) => [r, null])) }, true)];
}

/**
 * A list's page number kept in the address (`?page=`, absent for page 1; anything but a positive whole number reads
 * as 1); `replace` for typing a number.
 */
export function usePageParam(): [number, (page: number, replace?: boolean) => void] {
  const [search, update] = useSearch();
  const value = search.get('page') ?? '';
  const page = /^[1-9][0-9]{0,8}$/.test(value) ? Number(value) : 1;
  return [page, (to, replace = false) => update({ page: to > 1 ? String(to) : null }, replace)];
}

export function href(path: string): string {
  return BASE + path.replace(/^\/+/, '');
}

export function navigate(path: string, replace = false) {
  const url = href(path);
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  listeners.forEach((l) => l());
  window.scrollTo(0, 0);
}

/** Splits a console path into decoded segments. */
export function segments(path: string): string[] {
  return path.split('/').filter(Boolean).map((s) => decodeURIComponent(s));
}

export function join(...parts: string[]): string {
  return parts.map((p) => encodeURIComponent(p)).join('/');
}

export function Link({ to, children, ...rest }: { to: string; children: ReactNode } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return (
    <a href={href(to)} onClick={onClick} {...rest}>
      {children}
    </a>
  );
}
