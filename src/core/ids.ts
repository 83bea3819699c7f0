import { monotonicFactory } from 'ulid';

const nextUlid = monotonicFactory();

/** Opaque string ID, unique and sortable by creation time (a lower-cased ULID). */
export function newId(): string {
  return nextUlid().toLowerCase();
}
