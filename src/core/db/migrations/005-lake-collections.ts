import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../dialect.js';

// Collections at scale. `member_count` lets add/remove answer `total` without counting a collection that
// may hold a million members. Triggers keep it exact whoever deletes member rows (the node tree removes
// deleted nodes from every collection), so no caller has to remember to. PostgreSQL counts once per
// statement from the transition table; SQLite has only row triggers, which cost one in-page update per row.
// The partial indexes serve the newest-first lists and their counts among live rows.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('collections').addColumn('member_count', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  await sql`update collections set member_count = (select count(*) from collection_members m where m.collection_id = collections.id)`.execute(db);

  await sql`create index collections_live_recent on collections (project_id, id) where deleted_at is null`.execute(db);
  await sql`create index collections_live_dataset on collections (dataset_id, id) where deleted_at is null`.execute(db);
  await sql`create index datasets_live_recent on datasets (project_id, id) where deleted_at is null`.execute(db);

  if (dialectOf(db) === 'postgres') {
    for (const [event, table, sign] of [['insert', 'new', '+'], ['delete', 'old', '-']] as const) {
      await sql
        .raw(
          `create function collection_members_count_${event}() returns trigger language plpgsql as $$
           begin
             update collections c set member_count = c.member_count ${sign} d.n
               from (select collection_id, count(*) as n from ${table}_rows group by collection_id) d
              where c.id = d.collection_id;
             return null;
           end $$`,
        )
        .execute(db);
      await sql
        .raw(
          `create trigger collection_members_count_${event} after ${event} on collection_members
           referencing ${table} table as ${table}_rows for each statement
           execute function collection_members_count_${event}()`,
        )
        .execute(db);
    }
  } else {
    await sql`create trigger collection_members_count_insert after insert on collection_members begin
      update collections set member_count = member_count + 1 where id = new.collection_id; end`.execute(db);
    await sql`create trigger collection_members_count_delete after delete on collection_members begin
      update collections set member_count = member_count - 1 where id = old.collection_id; end`.execute(db);
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  const postgres = dialectOf(db) === 'postgres';
  for (const event of ['insert', 'delete']) {
    await sql.raw(`drop trigger if exists collection_members_count_${event}${postgres ? ' on collection_members' : ''}`).execute(db);
    if (postgres) await sql.raw(`drop function if exists collection_members_count_${event}()`).execute(db);
  }
  for (const index of ['collections_live_recent', 'collections_live_dataset', 'datasets_live_recent']) {
    await db.schema.dropIndex(index).ifExists().execute();
  }
  await db.schema.alterTable('collections').dropColumn('member_count').execute();
}
