import { CompiledQuery, type Insertable, type Kysely } from 'kysely';
import { dialectOf } from './dialect.js';

const texts = new Map<string, string>();
const TEXTS_LIMIT = 1000;
/** PostgreSQL: each table's column types, as `format_type` spells them (the schema's, whatever its name). */
const columnTypes = new Map<string, Map<string, string>>();

/** SQLite: rows per statement, well under its limit of 32,766 parameters for any table of ours. */
const SQLITE_ROWS = 400;

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * Inserts `rows` (each with the same columns, in the same order) in one statement, as Kysely's
 * `insertInto(table).values(rows)` would, without its query builder: for a few hundred rows its nodes cost
 * more CPU than the insert itself, and their garbage more again. On SQLite the text is a multi-row VALUES
 * (400 rows at most; more make several statements), made once per table, columns and row count. On PostgreSQL it is `select … from unnest($1::type[], …)`, one
 * array per column: one text (and one prepared plan per connection) whatever the row count, and measured
 * faster than a VALUES list of thousands of parameters, which PostgreSQL parses and plans on every call.
 * Answers the `returning` column of each row, if asked (in no promised order).
 */
export async function insertRows<DB, T extends keyof DB & string>(
  db: Kysely<DB>,
  table: T,
  rows: Insertable<DB[T]>[],
  returning?: keyof DB[T] & string,
): Promise<Record<string, unknown>[]> {
  if (!rows.length) return [];
  const columns = Object.keys(rows[0] as object);
  const valueOf = (row: Insertable<DB[T]>, column: string) => (row as Record<string, unknown>)[column] ?? null;
  if (dialectOf(db) === 'postgres') {
    const types = await typesOf(db, table);
    const key = `unnest ${table}(${columns.join(',')})→${returning ?? ''}`;
    let text = texts.get(key);
    if (!text) {
      const arrays = columns.map((c, i) => {
        const type = types.get(c);
        if (!type) throw new Error(`insertRows: ${table} has no column ${c}`);
        return `$${i + 1}::${type}[]`;
      });
      text = `insert into ${quote(table)} (${columns.map(quote).join(', ')}) select * from unnest(${arrays.join(', ')})${returning ? ` returning ${quote(returning)}` : ''}`;
      remember(key, text);
    }
    const parameters = columns.map((column) => arrayParameter(rows.map((row) => valueOf(row, column))));
    return (await db.executeQuery(CompiledQuery.raw(text, parameters))).rows as Record<string, unknown>[];
  }
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < rows.length; i += SQLITE_ROWS) {
    const part = rows.slice(i, i + SQLITE_ROWS);
    const key = `values ${table}(${columns.join(',')})×${part.length}→${returning ?? ''}`;
    let text = texts.get(key);
    if (!text) {
      const tuple = `(${columns.map(() => '?').join(', ')})`;
      text = `insert into ${quote(table)} (${columns.map(quote).join(', ')}) values ${part.map(() => tuple).join(', ')}${returning ? ` returning ${quote(returning)}` : ''}`;
      remember(key, text);
    }
    const parameters: unknown[] = new Array(part.length * columns.length);
    let k = 0;
    for (const row of part) for (const column of columns) parameters[k++] = valueOf(row, column);
    out.push(...((await db.executeQuery(CompiledQuery.raw(text, parameters))).rows as Record<string, unknown>[]));
  }
  return out;
}

const QUOTED = /["\\]/;
const QUOTED_ALL = /["\\]/g;

/**
 * A PostgreSQL array literal (`{"a","b\\"c",NULL,3}`) for a column of strings, numbers and nulls, made here
 * in one pass: node-postgres builds the same text, but at several times the cost (two regular expressions and
 * a type dispatch per element), which showed in profiles of bulk writes. Anything else (dates, buffers) is
 * left to node-postgres.
 */
function arrayParameter(values: unknown[]): unknown {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i) out += ',';
    if (v === null) out += 'NULL';
    else if (typeof v === 'string') out += `"${QUOTED.test(v) ? v.replace(QUOTED_ALL, '\\$&') : v}"`;
    else if (typeof v === 'number' && Number.isFinite(v)) out += String(v);
    else return values;
  }
  return out + '}';
}

function remember(key: string, text: string) {
  if (texts.size >= TEXTS_LIMIT) texts.clear();
  texts.set(key, text);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function typesOf(db: Kysely<any>, table: string): Promise<Map<string, string>> {
  let types = columnTypes.get(table);
  if (types) return types;
  const { rows } = await db.executeQuery<{ name: string; type: string }>(
    CompiledQuery.raw(
      'select attname as name, format_type(atttypid, atttypmod) as type from pg_attribute where attrelid = to_regclass($1) and attnum > 0 and not attisdropped',
      [quote(table)],
    ),
  );
  if (!rows.length) throw new Error(`insertRows: no table ${table}`);
  types = new Map(rows.map((r) => [r.name, r.type]));
  columnTypes.set(table, types);
  return types;
}
