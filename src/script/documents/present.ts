import type { Selectable } from 'kysely';
import type { ScriptTables } from '../db.js';
import type { Document } from './schemas.js';

/** A stored document as read back (the table's columns). */
export type DocumentRow = Omit<Selectable<ScriptTables['script_documents']>, 'last_seq'>;

export function presentDocument(row: Pick<DocumentRow, 'id' | 'title' | 'content' | 'project_id' | 'rev' | 'created_at' | 'updated_at'>): Document {
  return {
    id: row.id,
    title: row.title,
    ...(row.content !== null && { content: row.content }),
    ...(row.project_id !== null && { projectId: row.project_id }),
    _rev: row.rev,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
