import { useCallback, useEffect, useRef, useState } from 'react';

export type Loaded<T> =
  | { state: 'loading'; data?: T; error?: undefined; reload: () => void }
  | { state: 'error'; data?: T; error: Error; reload: () => void }
  | { state: 'ok'; data: T; error?: undefined; reload: () => void };

/** Runs `load` whenever `deps` change (and on reload()); the newest call wins. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [result, setResult] = useState<{ state: 'loading' | 'error' | 'ok'; data?: T; error?: Error }>({ state: 'loading' });
  const [tick, setTick] = useState(0);
  const seq = useRef(0);
  useEffect(() => {
    const mine = ++seq.current;
    setResult((r) => ({ state: 'loading', data: r.data }));
    load().then(
      (data) => mine === seq.current && setResult({ state: 'ok', data }),
      (error: unknown) =>
        mine === seq.current && setResult({ state: 'error', error: error instanceof Error ? error : new Error(String(error)) }),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...result, reload } as Loaded<T>;
}
