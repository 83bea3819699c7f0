// Dreamspace timestamps. Stored as UTC text with a fixed six-digit fraction
// (`2025-06-08T10:12:00.000000Z`) so that text order is time order in both dialects; rendered, like the
// original Python server, as ISO 8601 in the server's time zone with its offset
// (`2025-06-08T20:12:00+10:00`, a fraction only when there is one). Values without an offset are read
// in the server's time zone (the process's TZ), as the documents say.

const PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/;

/** Parses an ISO 8601 date or date-time into storage text; `undefined` when it is not one. */
export function parseTimestamp(value: string): string | undefined {
  const m = PATTERN.exec(value.trim());
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0));
  const micros = Number((m[7] ?? '').padEnd(6, '0').slice(0, 6));
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;

  let seconds: number;
  const zone = m[8];
  if (zone) {
    const offset = offsetMinutes(zone);
    if (offset === undefined) return undefined;
    seconds = utcSeconds(year, month, day, hour, minute, second) - offset * 60;
  } else {
    const local = new Date(2000, 0, 1, hour, minute, second, 0);
    local.setFullYear(year, month - 1, day);
    seconds = Math.floor(local.getTime() / 1000);
  }
  return Number.isFinite(seconds) && inRange(seconds) ? toStorage(seconds, micros) : undefined;
}

/** Now, as storage text (millisecond precision: that is what the clock gives). */
export function nowTimestamp(): string {
  const ms = Date.now();
  return toStorage(Math.floor(ms / 1000), (ms % 1000) * 1000);
}

/** Storage text → ISO 8601 with the server's offset at that instant. */
export function renderTimestamp(stored: string): string;
export function renderTimestamp(stored: string | null): string | null;
export function renderTimestamp(stored: string | null): string | null {
  if (stored === null) return null;
  const seconds = Math.floor(Date.parse(`${stored.slice(0, 19)}Z`) / 1000);
  const micros = Number(stored.slice(20, 26));
  // Minutes east of UTC at that instant; but in the first and last hours of years 1-9999 the local date can leave
  // them (9999-12-31T23:00:00Z is year 10000 east of UTC), and ISO 8601 text has four-digit years: those are in UTC.
  const zoned = -new Date(seconds * 1000).getTimezoneOffset();
  const offset = inRange(seconds + zoned * 60) ? zoned : 0;
  const local = new Date((seconds + offset * 60) * 1000).toISOString().slice(0, 19);
  const fraction = micros === 0 ? '' : `.${String(micros).padStart(6, '0')}`;
  const abs = Math.abs(offset);
  return `${local}${fraction}${offset < 0 ? '-' : '+'}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
}

function inRange(seconds: number): boolean {
  const year = new Date(seconds * 1000).getUTCFullYear();
  return year >= 1 && year <= 9999;
}

function toStorage(seconds: number, micros: number): string {
  const date = new Date(seconds * 1000);
  return `${date.toISOString().slice(0, 19)}.${String(micros).padStart(6, '0')}Z`;
}

function utcSeconds(year: number, month: number, day: number, hour: number, minute: number, second: number) {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  return date.getTime() / 1000;
}

function offsetMinutes(zone: string): number | undefined {
  if (zone === 'Z' || zone === 'z') return 0;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
  if (hours > 23 || minutes > 59) return undefined;
  return (zone[0] === '-' ? -1 : 1) * (hours * 60 + minutes);
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysIn(year: number, month: number): number {
  return month === 2 && isLeap(year) ? 29 : DAYS[month - 1];
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}
