import { conflict } from '../../core/errors.js';
import { nowIso } from '../../core/time.js';
import { assertDocumentAccess, assertProjectTarget } from '../access/policy.js';
import { writeDocuments, type ScriptContext } from '../context.js';
import type { ScriptDb } from '../db.js';
import type { ScriptKey } from '../keys/repo.js';
import { byCouchIds, couchIdOf } from './couch-id.js';
import type { DocumentRow } from './present.js';
import { documentNotFound, findDocument } from './repo.js';
import { matches, type DocumentState, type Expected } from './revs.js';
import { insertDocuments, liveProjects, replaceDocument, stateOf, unknownProject, type Replaced } from './writes.js';

// The rules of a document write, shared by the single-document routes and _bulk.

/** A live document the key may change, at a revision the writer expects. */
export function checkReplace(key: ScriptKey, id: number, current: DocumentRow | undefined, expected: Expected): DocumentRow {
  if (!current || current.deleted) throw documentNotFound(id);
  assertDocumentAccess(key, id, current.project_id);
  if (!matches(expected, current.rev)) {
    throw conflict(`Document ${id} is at revision ${current.rev}, not the one named; fetch it again and retry.`);
  }
  return current;
}

/** A project the key may put documents in, and that exists. */
export function checkTarget(key: ScriptKey, projectId: number | null, live: Set<number>): void {
  assertProjectTarget(key, projectId);
  if (projectId !== null && !live.has(projectId)) throw unknownProject(projectId);
}

/**
 * A document moving into project `projectId` must not meet one that answers to its CouchDB `_id` there (its
 * couch_id, or its ID as a string): a CouchDB database holds one document per `_id`, deleted ones included.
 */
export async function checkMove(trx: ScriptDb, current: DocumentRow, projectId: number | null): Promise<void> {
  if (projectId === null) return;
  const couchId = couchIdOf(current);
  const clash = await trx
    .selectFrom('script_documents')
    .select('id')
    .where('project_id', '=', projectId)
    .where('id', '<>', current.id)
    .where(byCouchIds(trx, [couchId]))
    .limit(1)
    .executeTakeFirst();
  if (clash) {
    throw conflict(`Document ${current.id} cannot move to project ${projectId}: its CouchDB _id "${couchId}" is taken there by document ${clash.id}.`);
  }
}

export async function createDocument(sc: ScriptContext, key: ScriptKey, state: DocumentState): Promise<DocumentRow> {
  assertProjectTarget(key, state.projectId);
  return writeDocuments(sc, async (trx) => {
    const { projectId } = state;
    if (projectId !== null && !(await liveProjects(trx, [projectId])).has(projectId)) throw unknownProject(projectId);
    const [row] = await insertDocuments(trx, [state], nowIso());
    return row;
  });
}

/** Replaces, patches or deletes (tombstones) one document, as `change` decides from its current state. */
export async function changeDocument(
  sc: ScriptContext,
  key: ScriptKey,
  id: number,
  expected: Expected,
  change: (current: DocumentState) => DocumentState,
): Promise<Replaced> {
  return writeDocuments(sc, async (trx) => {
    const current = checkReplace(key, id, await findDocument(trx, id), expected);
    const next = change(stateOf(current));
    if (next.projectId !== current.project_id) {
      checkTarget(key, next.projectId, await liveProjects(trx, next.projectId === null ? [] : [next.projectId]));
      await checkMove(trx, current, next.projectId);
    }
    return replaceDocument(trx, current, next, nowIso());
  });
}
