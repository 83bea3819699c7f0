import { CompiledQuery, type Insertable, type Kysely } from 'kysely';
import { dialectOf } from './dialect.js';

const texts = new Map<string, string>();
const TEXTS_LIMIT = 1000;

/**
 * Inserts `rows` (each with the same columns, in the same order) in one statement, as Kysely's
 * `insertInto(table).values(rows)` would, without its query builder: for a few hundred rows its nodes cost
 * more CPU than the insert itself, and their garbage more again. The text is made once per table, columns
 * and row count (and placeholder style). Answers the `returning` column of each row, if asked (in no promised order).
 */
export async function insertRows<DB, T extends keyof DB & string>(
  db: Kysely<DB>,
  table: T,
  rows: Insertable<DB[T]>[],
  returning?: keyof DB[T] & string,
): Promise<Record<string, unknown>[]> {
  if (!rows.length) return [];
  const columns = Object.keys(rows[0] as object);
  const postgres = dialectOf(db) === 'postgres';
  const key = `${postgres ? '$' : '?'} ${table}(${columns.join(',')})×${rows.length}→${returning ?? ''}`;
  let text = texts.get(key);
  if (!text) {
    let n = 0;
    const tuple = () => `(${columns.map(() => (postgres ? `$${++n}` : '?')).join(', ')})`;
    const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
    text = `insert into ${quote(table)} (${columns.map(quote).join(', ')}) values ${rows.map(tuple).join(', ')}${returning ? ` returning ${quote(returning)}` : ''}`;
    if (texts.size >= TEXTS_LIMIT) texts.clear();
    texts.set(key, text);
  }
  const parameters: unknown[] = new Array(rows.length * columns.length);
  let k = 0;
  for (const row of rows) for (const column of columns) parameters[k++] = (row as Record<string, unknown>)[column] ?? null;
  const result = await db.executeQuery(CompiledQuery.raw(text, parameters));
  return result.rows as Record<string, unknown>[];
}
