import { useSyncExternalStore } from 'react';

const KEYS = { lake: 'dreamlake.token', script: 'dreamlake.scriptKey', space: 'dreamlake.spaceToken' } as const;
export type Credential = keyof typeof KEYS;

const listeners = new Set<() => void>();

export function getCredential(kind: Credential): string | null {
  return localStorage.getItem(KEYS[kind]);
}

export function setCredential(kind: Credential, value: string | null) {
  if (value) localStorage.setItem(KEYS[kind], value.trim());
  else localStorage.removeItem(KEYS[kind]);
  for (const l of listeners) l();
}

export function useCredential(kind: Credential): string | null {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => getCredential(kind),
  );
}

/**
 * A login link carries the token in the fragment (`#token=…`), which never reaches a server log.
 * Keep it, then take it out of the address bar and the history.
 */
export function captureTokenFromFragment() {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!match) return;
  setCredential('lake', decodeURIComponent(match[1]));
  history.replaceState(history.state, '', location.pathname + location.search);
}

/** The claims of a JWT, for showing who is signed in (the server verifies it; this only reads it). */
export function tokenClaims(token: string): { username?: string; exp?: number } | null {
  try {
    const payload = token.split('.')[1];
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    return JSON.parse(json) as { username?: string; exp?: number };
  } catch {
    return null;
  }
}
