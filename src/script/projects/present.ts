import type { Project } from './schemas.js';

export interface ProjectRow {
  id: number;
  name: string;
  description: string | null;
  created_at: string;
  updated_at: string;
}

export function presentProject(row: ProjectRow): Project {
  return {
    id: row.id,
    name: row.name,
    ...(row.description !== null && { description: row.description }),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
