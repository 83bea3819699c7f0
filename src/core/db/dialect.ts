import { PostgresAdapter, sql, type Kysely, type RawBuilder } from 'kysely';
import type { DialectName } from './database.js';

/**
 * The few pieces of SQL that differ between SQLite and PostgreSQL live here, so that the families
 * never branch on the dialect themselves.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function dialectOf(db: Kysely<any>): DialectName {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/** Column type of an auto-incrementing int64 primary key. */
export function autoIdType(dialect: DialectName) {
  return dialect === 'postgres' ? 'bigserial' : 'integer';
}

/** JSON array of `expr` ordered by `orderBy`, or an empty array when no row matches. */
export function jsonArrayAgg(dialect: DialectName, expr: RawBuilder<unknown>, orderBy: RawBuilder<unknown>) {
  return dialect === 'postgres'
    ? sql<string>`coalesce(json_agg(${expr} order by ${orderBy})::text, '[]')`
    : sql<string>`coalesce(json_group_array(${expr} order by ${orderBy}), '[]')`;
}

/** Parses a JSON column that both dialects hand back as text. */
export function parseJson<T>(value: unknown, fallback: T): T {
  if (value === null || value === undefined) return fallback;
  if (typeof value !== 'string') return value as T;
  return JSON.parse(value) as T;
}

/** Row locks a write takes on rows it read (PostgreSQL; SQLite transactions of a process never overlap). */
export type LockMode = 'key share' | 'share' | 'update';

/**
 * `for key share` / `for share` / `for update` on PostgreSQL, nothing on SQLite. `key share` keeps a row
 * from being deleted (or its key changed) until the transaction ends, and lets everything else through:
 * what a write needs of the rows it points at, so a check-then-write cannot race a delete. `share` also
 * waits for (and then re-reads past) any update, which is what a soft delete (`set deleted_at`) is.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function lockClause(db: Kysely<any>, mode: LockMode | undefined): RawBuilder<unknown> {
  if (mode === undefined || dialectOf(db) !== 'postgres') return sql``;
  return mode === 'update' ? sql` for update` : mode === 'share' ? sql` for share` : sql` for key share`;
}

/** Orders text by its bytes (CouchDB's _all_docs order), whatever the database's collation. */
export function bytewiseText(dialect: DialectName, expr: RawBuilder<unknown>) {
  return dialect === 'postgres' ? sql<string>`(${expr}) collate "C"` : sql<string>`${expr}`;
}

/**
 * The next `count` values of an auto-incremented key (autoIdType), ascending, taken before the rows are
 * inserted with them. Only for writers serialized with every other writer of the table (serializeWrites):
 * on SQLite the next rowid is max + 1, as SQLite itself would hand out; on PostgreSQL a block of the
 * column's sequence, taken with one nextval and one setval (no other writer can take values in between).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function nextAutoIds(db: Kysely<any>, table: string, column: string, count: number): Promise<number[]> {
  if (count === 0) return [];
  if (dialectOf(db) === 'postgres') {
    const seq = sql`pg_get_serial_sequence(${table}, ${column})`;
    const { rows } = await sql<{ last: number }>`select setval(${seq}, nextval(${seq}) + ${count - 1}) as last`.execute(db);
    const first = Number(rows[0].last) - count + 1;
    return Array.from({ length: count }, (_, i) => first + i);
  }
  const { rows } = await sql<{ id: number | null }>`select max(${sql.ref(column)}) as id from ${sql.table(table)}`.execute(db);
  const first = Number(rows[0]?.id ?? 0) + 1;
  return Array.from({ length: count }, (_, i) => first + i);
}

/**
 * Selections to add to the RETURNING of a single-statement write run outside any transaction: on PostgreSQL,
 * `set_config('synchronous_commit', 'off', true)` makes the statement's own implicit transaction commit
 * without waiting for its WAL to reach the disk: a crash of the database server may lose the write, never
 * corrupt anything. For writes that are cheap to lose; one round trip instead of BEGIN, SET, the write and
 * COMMIT. Nothing on SQLite, which commits so already (WAL, synchronous=NORMAL).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function relaxedCommitReturning(db: Kysely<any>) {
  return dialectOf(db) === 'postgres' ? [sql<string>`set_config('synchronous_commit', 'off', true)`.as('relaxed_commit')] : [];
}

/** Refreshes the planner's statistics of `tables` (PostgreSQL's ANALYZE; SQLite plans well without them). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function analyzeTables(db: Kysely<any>, tables: string[]): Promise<void> {
  if (dialectOf(db) !== 'postgres') return;
  await sql`analyze ${sql.join(tables.map((t) => sql.table(t)))}`.execute(db);
}

/**
 * `expr in (…values)`. On PostgreSQL `expr in (select unnest($1::type[]))`: one parameter whatever the count, so
 * one text (prepared once per connection, see database.ts) and no need to split a long list (listChunk). Not
 * `expr = any($1)`: once PostgreSQL settles on a generic plan for that, it checks every row it scans against the
 * whole array (measured: 100–500 ms instead of 3–15 ms for 1,000 _ids in a project not yet analyzed), where the
 * semi-join looks each value up in the index.
 */
export function inList(dialect: DialectName, expr: RawBuilder<unknown>, values: readonly (string | number)[], type: 'text' | 'bigint'): RawBuilder<boolean> {
  if (dialect === 'postgres') return sql<boolean>`${expr} in (select unnest(${values as unknown}::${sql.raw(type)}[]))`;
  return sql<boolean>`${expr} in (${sql.join(values)})`;
}

/** How many values one inList takes: all of them on PostgreSQL, a few hundred on SQLite (its parameter limit). */
export function listChunk(dialect: DialectName): number {
  return dialect === 'postgres' ? Number.MAX_SAFE_INTEGER : 400;
}
