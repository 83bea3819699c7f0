/** ISO 8601 UTC with milliseconds: sorts lexically in the same order as in time. */
export function nowIso(): string {
  return new Date().toISOString();
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `3600`, `2.5`, `90s`, `15m`, `1.5h`, `7d` → seconds; undefined when the text is not such a duration. */
export function durationSeconds(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([smhd]?)$/.exec(text.trim());
  return m ? Number(m[1]) * DURATION_UNITS[m[2] || 's'] : undefined;
}
