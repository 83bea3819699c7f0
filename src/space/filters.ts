import { Type, type TSchema } from '@sinclair/typebox';
import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { badRequest } from '../core/errors.js';
import { parseTimestamp } from './time.js';

/** One query-string filter of a model: how its text is read and the SQL condition it becomes. */
export interface Filter {
  type: 'integer' | 'string' | 'boolean' | 'timestamp' | 'enum';
  values?: readonly string[];
  where(value: number | string | boolean): RawBuilder<SqlBool>;
}
export type Filters = Record<string, Filter>;

export const equals = (column: string, type: 'integer' | 'string' = 'integer'): Filter => ({
  type,
  where: (v) => sql<SqlBool>`${sql.ref(column)} = ${v}`,
});
export const oneOf = (column: string, values: readonly string[]): Filter => ({
  type: 'enum',
  values,
  where: (v) => sql<SqlBool>`${sql.ref(column)} = ${v}`,
});
// `_after` is inclusive and `_before` exclusive, so that consecutive ranges neither overlap nor leave gaps.
export const after = (column: string): Filter => ({
  type: 'timestamp',
  where: (v) => sql<SqlBool>`${sql.ref(column)} >= ${v}`,
});
export const before = (column: string): Filter => ({
  type: 'timestamp',
  where: (v) => sql<SqlBool>`${sql.ref(column)} < ${v}`,
});
export const isSet = (column: string): Filter => ({
  type: 'boolean',
  where: (v) => (v ? sql<SqlBool>`${sql.ref(column)} is not null` : sql<SqlBool>`${sql.ref(column)} is null`),
});
export const custom = (type: Filter['type'], where: Filter['where']): Filter => ({ type, where });

/** Paging, which every list accepts besides its filters (an extension: the original had none). */
export interface ListOptions {
  limit?: number;
  after?: number;
}

export interface ParsedQuery extends ListOptions {
  conditions: RawBuilder<SqlBool>[];
}

/**
 * Reads the query string of a list. Unknown names, repeated names and unreadable values are a 400;
 * names in `fixed` are already set by the path, which wins over the query string.
 */
export function parseQuery(filters: Filters, query: Record<string, unknown>, fixed: readonly string[] = []): ParsedQuery {
  const parsed: ParsedQuery = { conditions: [] };
  for (const [name, raw] of Object.entries(query)) {
    if (Array.isArray(raw)) throw badRequest(`Query parameter ${name} is given more than once.`);
    const text = String(raw);
    if (text.includes('\u0000')) throw badRequest(`Query parameter ${name} contains a NUL character.`);
    if (name === 'limit' || name === 'after') {
      const n = readInteger(name, text);
      if (name === 'limit' && n < 1) throw badRequest('Query parameter limit must be at least 1.');
      parsed[name] = n;
      continue;
    }
    const filter = Object.hasOwn(filters, name) ? filters[name] : undefined;
    if (!filter) {
      throw badRequest(`Unknown filter ${name}. Known filters: ${[...Object.keys(filters), 'limit', 'after'].join(', ')}.`);
    }
    if (fixed.includes(name)) continue;
    parsed.conditions.push(filter.where(readValue(name, filter, text)));
  }
  return parsed;
}

function readValue(name: string, filter: Filter, text: string): number | string | boolean {
  switch (filter.type) {
    case 'integer':
      return readInteger(name, text);
    case 'boolean': {
      const v = text.toLowerCase();
      if (v === 'true' || v === '1') return true;
      if (v === 'false' || v === '0') return false;
      throw badRequest(`Filter ${name} must be true or false (got "${text}").`);
    }
    case 'timestamp': {
      // A "+" in a query string arrives as a space: "…T20:12:00 10:00" (or "… 20:12:00 10:00", with the space
      // between date and time that bodies accept too) means "+10:00".
      const stored = parseTimestamp(text.replace(/([T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?) (\d{2}(?::?\d{2})?)$/, '$1+$2'));
      if (stored === undefined) {
        throw badRequest(`Filter ${name} must be an ISO 8601 date or date-time, e.g. 2025-06-08 or 2025-06-08T20:12:00+10:00 (got "${text}").`);
      }
      return stored;
    }
    case 'enum':
      if (!filter.values?.includes(text)) {
        throw badRequest(`Filter ${name} must be one of: ${filter.values?.join(', ')} (got "${text}").`);
      }
      return text;
    default:
      return text;
  }
}

function readInteger(name: string, text: string): number {
  const n = /^-?\d{1,16}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n)) throw badRequest(`Query parameter ${name} must be an integer (got "${text}").`);
  return n;
}

/** The query-string schema of a model's list, for the OpenAPI document. */
export function querySchema(filters: Filters): TSchema {
  const props: Record<string, TSchema> = {};
  for (const [name, f] of Object.entries(filters)) {
    props[name] = Type.Optional(
      f.type === 'integer'
        ? Type.Integer()
        : f.type === 'boolean'
          ? Type.Boolean()
          : f.type === 'enum'
            ? Type.String({ enum: [...(f.values ?? [])] })
            : f.type === 'timestamp'
              ? Type.String({ description: 'ISO 8601 date or date-time (server time zone when no offset)' })
              : Type.String(),
    );
  }
  props.limit = Type.Optional(Type.Integer({ minimum: 1, description: 'At most this many objects' }));
  props.after = Type.Optional(Type.Integer({ description: 'Only objects whose ID is greater (paging)' }));
  return Type.Object(props, { additionalProperties: false });
}
