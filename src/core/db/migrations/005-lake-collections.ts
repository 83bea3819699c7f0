import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../dialect.js';

// Datasets and collections at scale: counters kept by triggers, so that no answer has to count a list that
// may be long, and no writer (the node tree deletes member rows too) has to remember to keep them.
// - collections.member_count answers the member routes' `total` without counting a million members;
// - projects.collection_count / dataset_count and datasets.collection_count (live rows only) give the
//   lists their `total` in O(1).
// PostgreSQL counts members once per statement from the transition table; SQLite has only row triggers,
// which cost one in-page update per row. The partial indexes serve the newest-first lists among live rows.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

export async function up(db: Db): Promise<void> {
  const postgres = dialectOf(db) === 'postgres';
  await db.schema.alterTable('collections').addColumn('member_count', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('projects').addColumn('collection_count', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('projects').addColumn('dataset_count', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('datasets').addColumn('collection_count', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  await sql`update collections set member_count = (select count(*) from collection_members m where m.collection_id = collections.id)`.execute(db);
  await sql`update projects set
    collection_count = (select count(*) from collections c where c.project_id = projects.id and c.deleted_at is null),
    dataset_count = (select count(*) from datasets d where d.project_id = projects.id and d.deleted_at is null)`.execute(db);
  await sql`update datasets set collection_count = (select count(*) from collections c where c.dataset_id = datasets.id and c.deleted_at is null)`.execute(db);

  await sql`create index collections_live_recent on collections (project_id, id) where deleted_at is null`.execute(db);
  await sql`create index collections_live_dataset on collections (dataset_id, id) where deleted_at is null`.execute(db);
  await sql`create index datasets_live_recent on datasets (project_id, id) where deleted_at is null`.execute(db);

  for (const statement of postgres ? POSTGRES_TRIGGERS : SQLITE_TRIGGERS) await sql.raw(statement).execute(db);
}

const live = (row: 'old' | 'new') => `(${row}.deleted_at is null)`;

const SQLITE_TRIGGERS = [
  `create trigger collection_members_count_insert after insert on collection_members begin
     update collections set member_count = member_count + 1 where id = new.collection_id; end`,
  `create trigger collection_members_count_delete after delete on collection_members begin
     update collections set member_count = member_count - 1 where id = old.collection_id; end`,
  `create trigger collections_count_insert after insert on collections when ${live('new')} begin
     update projects set collection_count = collection_count + 1 where id = new.project_id;
     update datasets set collection_count = collection_count + 1 where id = new.dataset_id; end`,
  `create trigger collections_count_update after update of deleted_at, dataset_id on collections
     when ${live('old')} <> ${live('new')} or old.dataset_id is not new.dataset_id begin
     update projects set collection_count = collection_count + ${live('new')} - ${live('old')}
       where id = new.project_id and ${live('old')} <> ${live('new')};
     update datasets set collection_count = collection_count - 1 where id = old.dataset_id and ${live('old')};
     update datasets set collection_count = collection_count + 1 where id = new.dataset_id and ${live('new')}; end`,
  `create trigger datasets_count_insert after insert on datasets when ${live('new')} begin
     update projects set dataset_count = dataset_count + 1 where id = new.project_id; end`,
  `create trigger datasets_count_update after update of deleted_at on datasets when ${live('old')} <> ${live('new')} begin
     update projects set dataset_count = dataset_count + ${live('new')} - ${live('old')} where id = new.project_id; end`,
];

const members = (event: 'insert' | 'delete', rows: 'new' | 'old', sign: '+' | '-') => [
  `create function collection_members_count_${event}() returns trigger language plpgsql as $$ begin
     update collections c set member_count = c.member_count ${sign} d.n
       from (select collection_id, count(*) as n from ${rows}_rows group by collection_id) d
      where c.id = d.collection_id;
     return null; end $$`,
  `create trigger collection_members_count_${event} after ${event} on collection_members
     referencing ${rows} table as ${rows}_rows for each statement execute function collection_members_count_${event}()`,
];

const POSTGRES_TRIGGERS = [
  ...members('insert', 'new', '+'),
  ...members('delete', 'old', '-'),
  `create function collections_count() returns trigger language plpgsql as $$ begin
     if tg_op = 'UPDATE' then
       if ${live('old')} and old.dataset_id is not null then
         update datasets set collection_count = collection_count - 1 where id = old.dataset_id;
       end if;
       if ${live('old')} <> ${live('new')} then
         update projects set collection_count = collection_count + ${live('new')}::int - ${live('old')}::int where id = new.project_id;
       end if;
     elsif ${live('new')} then
       update projects set collection_count = collection_count + 1 where id = new.project_id;
     end if;
     if ${live('new')} and new.dataset_id is not null then
       update datasets set collection_count = collection_count + 1 where id = new.dataset_id;
     end if;
     return null; end $$`,
  `create trigger collections_count_insert after insert on collections for each row execute function collections_count()`,
  `create trigger collections_count_update after update of deleted_at, dataset_id on collections for each row
     when (${live('old')} <> ${live('new')} or old.dataset_id is distinct from new.dataset_id) execute function collections_count()`,
  `create function datasets_count() returns trigger language plpgsql as $$ begin
     update projects set dataset_count = dataset_count + ${live('new')}::int - (tg_op = 'UPDATE' and ${live('old')})::int
      where id = new.project_id;
     return null; end $$`,
  `create trigger datasets_count_insert after insert on datasets for each row when ${live('new')} execute function datasets_count()`,
  `create trigger datasets_count_update after update of deleted_at on datasets for each row
     when (${live('old')} <> ${live('new')}) execute function datasets_count()`,
];

export async function down(db: Db): Promise<void> {
  const postgres = dialectOf(db) === 'postgres';
  const triggers: [string, string][] = [
    ['collection_members_count_insert', 'collection_members'],
    ['collection_members_count_delete', 'collection_members'],
    ['collections_count_insert', 'collections'],
    ['collections_count_update', 'collections'],
    ['datasets_count_insert', 'datasets'],
    ['datasets_count_update', 'datasets'],
  ];
  for (const [name, table] of triggers) await sql.raw(`drop trigger if exists ${name}${postgres ? ` on ${table}` : ''}`).execute(db);
  if (postgres) {
    for (const fn of ['collection_members_count_insert', 'collection_members_count_delete', 'collections_count', 'datasets_count']) {
      await sql.raw(`drop function if exists ${fn}()`).execute(db);
    }
  }
  for (const index of ['collections_live_recent', 'collections_live_dataset', 'datasets_live_recent']) {
    await db.schema.dropIndex(index).ifExists().execute();
  }
  await db.schema.alterTable('datasets').dropColumn('collection_count').execute();
  await db.schema.alterTable('projects').dropColumn('dataset_count').execute();
  await db.schema.alterTable('projects').dropColumn('collection_count').execute();
  await db.schema.alterTable('collections').dropColumn('member_count').execute();
}
