import type { Kysely } from 'kysely';
import type { LakeDb } from '../lake/db.js';
import { referencedBlobs } from '../lake/nodes/blob-refs.js';
import { referencedAttachmentBlobs } from '../script/couch/blob-refs.js';
import type { ScriptDb } from '../script/db.js';

/**
 * The subset of `sha256s` that the database still references: DreamLake file contents (nodes, files registered
 * through the blob service, completed uploads not yet expired) and Dreamscript (CouchDB) attachments. The one
 * answer to "which blobs matter", for what `dreamlake gc` keeps and what `dreamlake backup` copies alike.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function blobsInUse(db: Kysely<any>): (sha256s: string[]) => Promise<Set<string>> {
  return async (sha256s) => {
    const used = await referencedBlobs(db as LakeDb, sha256s);
    for (const sha of await referencedAttachmentBlobs(db as ScriptDb, sha256s)) used.add(sha);
    return used;
  };
}
