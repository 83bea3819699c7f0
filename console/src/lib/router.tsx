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
