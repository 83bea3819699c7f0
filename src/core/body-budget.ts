import { serviceUnavailable } from './errors.js';

/**
 * A process-wide budget of request-body bytes held in memory at once, for routes that accept large bodies (the
 * CouchDB endpoint takes up to 256 MiB, buffered, then decoded and parsed: about three times its size at the
 * peak). A request takes its declared size from the budget before its body is read and gives it back when its
 * response is over; while the budget is spent, requests wait their turn (first come, first served), and after
 * `waitMs` they are answered 503 with Retry-After instead of letting a burst of big bodies exhaust the heap.
 */
export interface BodyBudget {
  /** Resolves with the function that gives the bytes back (idempotent); rejects with a 503 after waiting too long. */
  take(bytes: number): Promise<() => void>;
  /** Bytes taken right now (for tests and metrics). */
  readonly used: number;
}

export function createBodyBudget(total: number, waitMs = 30_000): BodyBudget {
  let used = 0;
  const queue: { bytes: number; grant: () => void }[] = [];

  const giveBackFn = (bytes: number) => {
    let given = false;
    return () => {
      if (given) return;
      given = true;
      used -= bytes;
      while (queue.length && used + queue[0].bytes <= total) queue.shift()!.grant();
    };
  };

  return {
    get used() {
      return used;
    },
    take(requested) {
      const bytes = Math.min(requested, total); // one body larger than the whole budget waits to have it all
      if (queue.length === 0 && used + bytes <= total) {
        used += bytes;
        return Promise.resolve(giveBackFn(bytes));
      }
      return new Promise((resolve, reject) => {
        const entry = {
          bytes,
          grant: () => {
            clearTimeout(timer);
            used += bytes;
            resolve(giveBackFn(bytes));
          },
        };
        const timer = setTimeout(() => {
          queue.splice(queue.indexOf(entry), 1);
          reject(serviceUnavailable('Too many large request bodies are being received at once; retry in a moment.', 5));
        }, waitMs);
        timer.unref();
        queue.push(entry);
      });
    },
  };
}
