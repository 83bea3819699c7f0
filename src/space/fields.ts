import { sql } from 'kysely';
import { lockClause } from '../core/db/dialect.js';
import { badRequest } from '../core/errors.js';
import type { SpaceKysely } from './db.js';
import { parseTimestamp } from './time.js';

/** The foreign key a nested path sets, e.g. user_id = 4 for `POST /users/4/transactions`. */
export interface Scope {
  column: string;
  id: number;
}

/** A timestamp from a body, as storage text; a clear 400 when it is not ISO 8601. */
export function timestampField(name: string, value: string): string {
  const stored = parseTimestamp(value);
  if (stored === undefined) {
    throw badRequest(`Field ${name} must be an ISO 8601 date-time, e.g. 2025-06-08T20:12:00+10:00 (got "${value}").`);
  }
  return stored;
}

export function nullableTimestampField(name: string, value: string | null): string | null {
  return value === null ? null : timestampField(name, value);
}

/** A character outside the base64 alphabet: one character class, no groups, so the test is a linear scan. */
const NOT_BASE64 = /[^A-Za-z0-9+/]/;

/**
 * Standard, padded base64 (what Godot's Marshalls and Python's base64 module produce): groups of four
 * characters of the alphabet, the last one possibly ending in `=` or `==`. Checked in linear time without a
 * backtracking pattern (a regular expression of repeated groups overflows the stack on images of a few MB).
 */
export function isBase64(value: string): boolean {
  if (value.length % 4 !== 0) return false;
  const padding = value.endsWith('==') ? 2 : value.endsWith('=') ? 1 : 0;
  return !NOT_BASE64.test(padding === 0 ? value : value.slice(0, value.length - padding));
}

export function base64Field(name: string, value: string): string {
  if (!isBase64(value)) throw badRequest(`Field ${name} must be base64 (standard alphabet, padded with "=").`);
  return value;
}

/**
 * The value of `column` for a create: the path's when there is a scope (a different value in the body, null
 * included, is a 400, as on a PATCH through the path), else the body's.
 */
export function scoped(body: Record<string, unknown>, column: string, scope: Scope | undefined): number | undefined {
  const given = body[column] as number | null | undefined;
  if (!scope) return given ?? undefined;
  if (given !== undefined && given !== scope.id) {
    throw badRequest(`Field ${column} is ${String(given)} but the path says ${scope.id}.`);
  }
  return scope.id;
}

/**
 * A body's reference to another object must point at one that exists: 400 otherwise (not 404). The row is
 * locked against a concurrent delete until the write commits (PostgreSQL `for key share`).
 */
export async function requireRow(db: SpaceKysely, table: string, pk: string, id: number, label: string) {
  const { rows } = await sql`select 1 as found from ${sql.table(table)} where ${sql.ref(pk)} = ${id}${lockClause(db, 'key share')}`.execute(db);
  if (rows.length === 0) throw badRequest(`${label} ${id} does not exist.`);
}
