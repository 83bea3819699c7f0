import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';

// Dreamscript as a CouchDB database (the /dreamscript/couch endpoint): every document gets a revision tree
// instead of a line. Existing linear histories become single-branch trees (each revision's parent is the
// one of the previous generation), so the REST API and the CouchDB endpoint read and write one store.
// - script_documents: couch_id (the CouchDB _id when it is not the document's int64 ID as a string),
//   body (the JSON body when it holds more than title/content; null = {title, content}), attachments (the
//   winning revision's, JSON), branches (leaves besides the winner: 0 for a linear history, so writers
//   only load the tree when there is one), last_seq (the seq of its latest revision: the changes feeds).
// - script_revisions: parent, body, attachments, pruned (1 when compaction or an unknown ancestor left
//   only the revision's id); unique per (document, rev), as several revisions may share a generation.
// - script_projects.revs_limit (CouchDB's _revs_limit), script_local_docs (_local/ checkpoints, never
//   replicated), script_attachment_refs (which revisions use which blob, for `dreamlake gc`).

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

export async function up(db: Db): Promise<void> {
  const docs = db.schema.alterTable('script_documents');
  await docs.addColumn('couch_id', 'text').execute();
  await docs.addColumn('body', 'text').execute();
  await docs.addColumn('attachments', 'text').execute();
  await docs.addColumn('branches', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await docs.addColumn('last_seq', 'bigint', (c) => c.notNull().defaultTo(0)).execute();

  const revs = db.schema.alterTable('script_revisions');
  await revs.addColumn('parent', 'text').execute();
  await revs.addColumn('body', 'text').execute();
  await revs.addColumn('attachments', 'text').execute();
  await revs.addColumn('pruned', 'integer', (c) => c.notNull().defaultTo(0)).execute();

  await db.schema.alterTable('script_projects').addColumn('revs_limit', 'integer', (c) => c.notNull().defaultTo(1000)).execute();

  await sql`update script_revisions set parent = (
    select p.rev from script_revisions p
    where p.document_id = script_revisions.document_id and p.generation = script_revisions.generation - 1)`.execute(db);
  await sql`update script_documents set last_seq = coalesce(
    (select max(r.seq) from script_revisions r where r.document_id = script_documents.id), 0)`.execute(db);

  await db.schema.dropIndex('script_revisions_document').execute();
  await db.schema.createIndex('script_revisions_rev').on('script_revisions').columns(['document_id', 'rev']).unique().execute();
  await db.schema.createIndex('script_revisions_parent').on('script_revisions').columns(['document_id', 'parent']).execute();
  await db.schema.createIndex('script_documents_couch_id').on('script_documents').columns(['project_id', 'couch_id']).execute();
  await db.schema.createIndex('script_documents_seq').on('script_documents').columns(['last_seq']).execute();
  await db.schema.createIndex('script_documents_project_seq').on('script_documents').columns(['project_id', 'last_seq']).execute();

  await db.schema
    .createTable('script_local_docs')
    .addColumn('project_id', 'bigint', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('rev', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('script_local_docs_pk', ['project_id', 'id'])
    .execute();

  // A CouchDB server has a uuid that stays with its data (replicators name their checkpoints after it).
  await db.schema
    .createTable('script_settings')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
  await db.insertInto('script_settings').values({ name: 'couch_uuid', value: randomBytes(16).toString('hex') }).execute();

  await db.schema
    .createTable('script_attachment_refs')
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('document_id', 'bigint', (c) => c.notNull())
    .addColumn('rev', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('script_attachment_refs_sha').on('script_attachment_refs').columns(['sha256']).execute();
  await db.schema.createIndex('script_attachment_refs_doc').on('script_attachment_refs').columns(['document_id', 'rev']).execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.dropTable('script_attachment_refs').ifExists().execute();
  await db.schema.dropTable('script_local_docs').ifExists().execute();
  await db.schema.dropTable('script_settings').ifExists().execute();
}
