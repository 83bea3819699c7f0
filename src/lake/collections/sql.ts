import { sql, type Expression, type RawBuilder } from 'kysely';
import type { DialectName } from '../../core/db/database.js';
import { jsonArrayAgg } from '../../core/db/dialect.js';

/** The member IDs of one collection as a JSON array (text), in member order, as a scalar subquery. */
export function memberIdsJson(dialect: DialectName, collectionId: Expression<unknown>): RawBuilder<string> {
  const agg = jsonArrayAgg(dialect, sql`cm.node_id`, sql`cm.position`);
  return sql<string>`(select ${agg} from collection_members cm where cm.collection_id = ${collectionId})`;
}

/** The IDs and names of a dataset's live collections as two JSON arrays (text), oldest first, as scalar subqueries. */
export function datasetCollectionsJson(dialect: DialectName, datasetId: Expression<unknown>) {
  const of = (column: RawBuilder<unknown>) =>
    sql<string>`(select ${jsonArrayAgg(dialect, column, sql`dc.id`)} from collections dc where dc.dataset_id = ${datasetId} and dc.deleted_at is null)`;
  return { ids: of(sql`dc.id`), names: of(sql`dc.name`) };
}

/** Array items kept in first-seen order without repeats. */
export function unique(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

/** Splits a list so that no single statement carries more bound parameters than SQLite accepts. */
export function chunks<T>(items: readonly T[], size = 2000): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
