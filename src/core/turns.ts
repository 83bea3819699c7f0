/**
 * Tasks that take turns per key, in this process: a task starts once every earlier task of its key has settled
 * (whether it succeeded or failed); tasks of other keys run alongside.
 */
export function turnsByKey() {
  const tails = new Map<string, Promise<unknown>>();
  return async <T>(key: string, task: () => Promise<T>): Promise<T> => {
    const run = (tails.get(key) ?? Promise.resolve()).catch(() => undefined).then(task);
    const tail = run.catch(() => undefined);
    tails.set(key, tail);
    try {
      return await run;
    } finally {
      if (tails.get(key) === tail) tails.delete(key);
    }
  };
}
