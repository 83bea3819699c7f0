import type { Generated, Kysely } from 'kysely';
import type { Database } from '../core/db/database.js';
import { serializeWrites } from '../core/db/serial-writes.js';

/** The Dreamscript tables (migration 003-script). Booleans are stored as 0/1. */
export interface ScriptTables {
  script_projects: {
    id: Generated<number>;
    name: string;
    description: string | null;
    created_at: string;
    updated_at: string;
    deleted_at: string | null;
    revs_limit: Generated<number>;
    purge_seq: Generated<number>;
    /** The seq of the latest departure of a document (moved out, purged): update_seq never goes below it. */
    seq_floor: Generated<number>;
  };
  script_documents: {
    id: Generated<number>;
    project_id: number | null;
    title: string;
    content: string | null;
    generation: number;
    rev: string;
    deleted: number;
    created_at: string;
    updated_at: string;
    /** The CouchDB _id, when it is not the ID as a string (migration 008). */
    couch_id: string | null;
    /** The winning revision's JSON body when it holds more than title/content; null means {title, content}. */
    body: string | null;
    /** The winning revision's attachments (JSON, see couch/attachments.ts), or null. */
    attachments: string | null;
    /** Leaves of the revision tree besides the winner (0: a linear history). */
    branches: Generated<number>;
    /** The seq of the document's latest revision: its place in the changes feeds. */
    last_seq: Generated<number>;
  };
  script_revisions: {
    seq: Generated<number>;
    document_id: number;
    generation: number;
    rev: string;
    project_id: number | null;
    title: string;
    content: string | null;
    deleted: number;
    created_at: string;
    parent: string | null;
    body: string | null;
    attachments: string | null;
    /** 1 when only the revision's id is kept (compacted, or an ancestor known only by its id). */
    pruned: Generated<number>;
  };
  script_local_docs: {
    project_id: number;
    id: string;
    rev: string;
    body: string;
  };
  script_settings: {
    name: string;
    value: string;
  };
  script_attachment_refs: {
    sha256: string;
    document_id: number;
    rev: string;
  };
  script_keys: {
    id: Generated<number>;
    name: string | null;
    prefix: string;
    hash: string;
    projects: string | null;
    read_only: number;
    admin: number;
    created_at: string;
    revoked_at: string | null;
  };
}

export type ScriptDb = Kysely<ScriptTables>;

export function scriptDb(database: Database): ScriptDb {
  return database.db as ScriptDb;
}

/** The NOTIFY channel that document writes signal on PostgreSQL. */
export const CHANGES_CHANNEL = 'dreamscript_changes';

/**
 * Runs `work` as one transaction, serialized with every other Dreamscript write (see serializeWrites):
 * IDs and change sequence numbers then commit in the order they were allocated.
 */
export function writeTransaction<T>(db: ScriptDb, work: (trx: ScriptDb) => Promise<T>, notify?: string): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await serializeWrites(trx, 'dreamscript', notify);
    return work(trx);
  });
}
