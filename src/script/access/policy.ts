import { forbidden } from '../../core/errors.js';
import type { ScriptKey } from '../keys/repo.js';

// What a key may do, in one place. A key limited to projects sees only the documents of those projects
// (not documents outside any project) and cannot create projects; a read-only key cannot write; only an
// admin key manages keys.

export function mayReadProject(key: ScriptKey, projectId: number | null): boolean {
  return key.projects === null || (projectId !== null && key.projects.includes(projectId));
}

export function assertWritable(key: ScriptKey): void {
  if (key.readOnly) throw forbidden('This API key is read-only.');
}

export function assertDocumentAccess(key: ScriptKey, documentId: number, projectId: number | null): void {
  if (!mayReadProject(key, projectId)) throw forbidden(`This API key may not access document ${documentId}.`);
}

/** A document may only be put into (or moved to) a project the key can see. */
export function assertProjectTarget(key: ScriptKey, projectId: number | null): void {
  if (mayReadProject(key, projectId)) return;
  throw forbidden(
    projectId === null
      ? 'This API key may only place documents in its projects: give a projectId.'
      : `This API key may not access project ${projectId}.`,
  );
}

export function assertProjectAccess(key: ScriptKey, projectId: number): void {
  if (!mayReadProject(key, projectId)) throw forbidden(`This API key may not access project ${projectId}.`);
}

export function assertUnscoped(key: ScriptKey, what: string): void {
  if (key.projects !== null) throw forbidden(`This API key is limited to some projects and may not ${what}.`);
}

export function assertAdmin(key: ScriptKey): void {
  if (!key.admin) throw forbidden('Only an admin API key may manage keys.');
}
