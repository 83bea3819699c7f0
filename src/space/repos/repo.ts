import type { TSchema } from '@sinclair/typebox';
import { sql, type RawBuilder, type SelectQueryBuilder, type SqlBool } from 'kysely';
import type { SpaceKysely } from '../db.js';
import type { Scope } from '../fields.js';
import type { Filters, ListOptions } from '../filters.js';

/**
 * What the generic router needs of a model: its filters, its body schemas and four operations.
 * `list` answers presented objects in ID order for any set of conditions (the router adds the path's
 * conditions: `pk = …` for one object, `fk = …` under a parent); writes run inside the router's transaction.
 * An operation left out answers 405.
 */
export interface Repo {
  /** Table alias used in `list`, so that conditions can name `alias.column`. */
  alias: string;
  filters: Filters;
  /** Fields of the model that bodies may not set (better errors than "unknown field"). */
  readOnly: readonly string[];
  /**
   * Fields whose PATCH locks the row `for update` from the start (PostgreSQL; other PATCHes take `key share`):
   * - a unique column (users: twitch_id): changing one is a key update, and taking `key share` first and
   *   upgrading deadlocks two such PATCHes of one row on each other;
   * - a list that replaces the rows under this one (documents: stamps): under `key share` the delete-then-insert
   *   of two such PATCHes interleave (each delete misses the other's uncommitted inserts) and both lists stay.
   *   `for update` serialises them, and waits for writes adding rows under this one (they hold `key share`).
   */
  exclusiveFields?: readonly string[];
  schemas: {
    out: TSchema;
    create: TSchema;
    /** The create body under a parent path, where the foreign key is optional. */
    createScoped: TSchema;
    patch?: TSchema;
    /** `PUT` of a list (stamps only). */
    bulk?: TSchema;
    bulkScoped?: TSchema;
  };
  list(db: SpaceKysely, conditions: RawBuilder<SqlBool>[], options: ListOptions): Promise<unknown[]>;
  /** Objects per page when a long list is streamed (default 1,000). */
  listPage?: number;
  create(trx: SpaceKysely, body: never, scope: Scope | undefined): Promise<number>;
  patch?(trx: SpaceKysely, id: number, body: never): Promise<void>;
  remove?(trx: SpaceKysely, id: number): Promise<void>;
}

/** Conditions, paging and ID order, shared by every list query. */
export function applyList<DB, TB extends keyof DB, O>(
  query: SelectQueryBuilder<DB, TB, O>,
  pk: string,
  conditions: RawBuilder<SqlBool>[],
  options: ListOptions,
): SelectQueryBuilder<DB, TB, O> {
  let q = query;
  for (const condition of conditions) q = q.where(condition);
  if (options.after !== undefined) q = q.where(sql<SqlBool>`${sql.ref(pk)} > ${options.after}`);
  q = q.orderBy(sql.ref(pk));
  if (options.limit !== undefined) q = q.limit(options.limit);
  return q;
}
