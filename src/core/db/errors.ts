/** True when a database error is a unique-constraint violation, on either dialect. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || /UNIQUE constraint failed/.test(e?.message ?? '');
}

/** Runs `work`; a unique-constraint violation becomes the caller's own error (a 409 naming the clash). */
export async function uniqueOr<T>(work: () => Promise<T>, clash: () => Error): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw isUniqueViolation(err) ? clash() : err;
  }
}

type DbError = { code?: string; message?: string; name?: string } | null;

/** A foreign-key violation: the row a write points at is gone (PostgreSQL 23503; SQLite FOREIGN KEY constraint). */
export function isForeignKeyViolation(err: unknown): boolean {
  const e = err as DbError;
  return e?.code === '23503' || e?.code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || /FOREIGN KEY constraint failed/.test(e?.message ?? '');
}

/** A failure that says "run it again": deadlock, serialization failure, a busy SQLite database. */
export function isTransient(err: unknown): boolean {
  const code = (err as DbError)?.code;
  return code === '40P01' || code === '40001' || code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT';
}

/**
 * Values the database refuses (a text or index row too large, bad bytes, a number out of range or of the wrong
 * type, a negative LIMIT or OFFSET): the client's fault, whichever route let them through.
 */
export function isValueRejected(err: unknown): boolean {
  const code = (err as DbError)?.code;
  return VALUE_REJECTED.has(code ?? '');
}

/** The disk (of the database, or of the blob store) is full: PostgreSQL 53100, SQLite's SQLITE_FULL, ENOSPC. */
export function isOutOfSpace(err: unknown): boolean {
  const code = (err as DbError)?.code;
  return code === '53100' || code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT';
}

const VALUE_REJECTED = new Set(['54000', '22021', '22P05', '22001', '22003', '22P02', '2201W', '2201X', 'SQLITE_MISMATCH', 'SQLITE_TOOBIG']);

const ATTEMPTS = 4;

/**
 * Runs a whole transaction (`work` opens and commits it), again when it failed in a way a re-run fixes: a
 * deadlock or serialization failure, or a foreign-key violation from a row deleted between a check and a
 * write (the re-run's check then sees the delete and answers the 404/400 it means). `work` must have no
 * effect outside the database.
 */
export async function retryTransaction<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (attempt >= ATTEMPTS || !(isTransient(err) || isForeignKeyViolation(err))) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
    }
  }
}
