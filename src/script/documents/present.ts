import type { Document } from './schemas.js';

export interface DocumentRow {
  id: number;
  project_id: number | null;
  title: string;
  content: string | null;
  generation: number;
  rev: string;
  deleted: number;
  created_at: string;
  updated_at: string;
}

export function presentDocument(row: Omit<DocumentRow, 'generation' | 'deleted'>): Document {
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
