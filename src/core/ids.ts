import { randomBytes } from 'node:crypto';
import { monotonicFactory } from 'ulid';

const nextUlid = monotonicFactory();

/** Opaque string ID, unique and sortable by creation time (a lower-cased ULID). */
export function newId(): string {
  return nextUlid().toLowerCase();
}

/**
 * Request IDs: a random per-process prefix and a counter. Unique across replicas in practice and far
 * cheaper than a ULID, whose randomness showed up in profiles of the hot reads.
 */
export function requestIdGenerator(): () => string {
  const prefix = randomBytes(4).toString('hex');
  let counter = 0;
  return () => `${prefix}-${(++counter).toString(36)}`;
}
