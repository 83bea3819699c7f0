/** ISO 8601 UTC with milliseconds: sorts lexically in the same order as in time. */
export function nowIso(): string {
  return new Date().toISOString();
}
