import { AppError, toAppError, validationError } from '../../core/errors.js';
import { validatorCompiler } from '../../core/validation.js';
import { nowIso } from '../../core/time.js';
import { writeDocuments, type ScriptContext } from '../context.js';
import type { ScriptKey } from '../keys/repo.js';
import { checkMove, checkReplace, checkTarget } from './operations.js';
import type { DocumentRow } from './present.js';
import { DOCUMENT_COLUMNS } from './repo.js';
import type { DocumentState } from './revs.js';
import { BulkItem } from './schemas.js';
import { insertDocuments, liveProjects, replaceDocument, stateOf } from './writes.js';

export type BulkResult = { id: number; _rev: string } | { id?: number; error: string; message: string };

type CheckItem = ((item: unknown) => item is BulkItem) & { errors?: unknown[] | null };
/** The routes' own validator, so that an item's errors read as a body's do (core/validation.ts, core/errors.ts). */
const checkItem = validatorCompiler({ schema: BulkItem, httpPart: 'body', method: 'POST', url: '/documents/_bulk' }) as unknown as CheckItem;

/** An item to create (no id), or to replace or, when `replace` is absent, delete. */
type Planned =
  | { index: number; create: DocumentState }
  | { index: number; id: number; rev?: string; replace?: DocumentState };

/** Validates one item on its own, so that a bad item fails alone. */
function plan(item: unknown, index: number): Planned {
  if (!checkItem(item)) throw toAppError({ message: 'invalid item', validation: checkItem.errors ?? [], validationContext: `docs[${index}]` });
  const { id, _rev, _deleted, title, content = null, projectId = null } = item;
  if (id === undefined) {
    if (_rev !== undefined || _deleted) throw validationError(`docs[${index}]: a new document (no id) cannot name _rev or _deleted.`);
    if (title === undefined) throw validationError(`docs[${index}].title is required.`);
    return { index, create: { title, content, projectId, deleted: false } };
  }
  if (_deleted) return { index, id, rev: _rev };
  if (title === undefined) throw validationError(`docs[${index}].title is required (an update replaces the whole document).`);
  return { index, id, rev: _rev, replace: { title, content, projectId, deleted: false } };
}

function failure(err: AppError, id?: unknown): BulkResult {
  return { ...(Number.isSafeInteger(id) && { id: id as number }), error: err.code, message: err.message };
}

/**
 * CouchDB `_bulk_docs`: every item is checked and applied on its own (one result per item, in order),
 * all in one transaction. Items naming the same document apply one after the other.
 */
export async function bulkWrite(sc: ScriptContext, key: ScriptKey, items: unknown[]): Promise<BulkResult[]> {
  const results: BulkResult[] = new Array(items.length);
  const planned: Planned[] = [];
  items.forEach((item, index) => {
    try {
      planned.push(plan(item, index));
    } catch (err) {
      results[index] = failure(err as AppError, (item as { id?: unknown }).id);
    }
  });
  if (planned.length === 0) return results;

  return writeDocuments(sc, async (trx) => {
    const ids = [...new Set(planned.flatMap((p) => ('id' in p ? [p.id] : [])))];
    const current = new Map<number, DocumentRow>();
    if (ids.length) {
      const rows = await trx.selectFrom('script_documents').select(DOCUMENT_COLUMNS).where('id', 'in', ids).execute();
      for (const row of rows) current.set(row.id, row);
    }
    const targets = planned.map((p) => ('create' in p ? p.create : p.replace)?.projectId ?? null);
    const live = await liveProjects(trx, targets.filter((t): t is number => t !== null));

    const now = nowIso();
    const creates: { index: number; state: DocumentState }[] = [];
    for (const p of planned) {
      try {
        if ('create' in p) {
          checkTarget(key, p.create.projectId, live);
          creates.push({ index: p.index, state: p.create });
          continue;
        }
        const before = checkReplace(key, p.id, current.get(p.id), p.rev === undefined ? null : [p.rev]);
        const next = p.replace ?? { ...stateOf(before), deleted: true };
        if (next.projectId !== before.project_id) {
          checkTarget(key, next.projectId, live);
          await checkMove(trx, before, next.projectId);
        }
        const { row, rev } = await replaceDocument(trx, before, next, now);
        current.set(row.id, row);
        results[p.index] = { id: row.id, _rev: rev };
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        results[p.index] = failure(err, 'id' in p ? p.id : undefined);
      }
    }
    const inserted = await insertDocuments(trx, creates.map((c) => c.state), now);
    inserted.forEach((row, i) => (results[creates[i].index] = { id: row.id, _rev: row.rev }));
    return results;
  });
}
