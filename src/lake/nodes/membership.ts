import type { LakeDb } from '../db.js';

// The seam between collections and the node tree. Until the node tree exists these accept any member ID;
// the node-tree issue replaces the bodies (same signatures) with real checks against live leaf nodes.

/** Member IDs that are not live leaf nodes of the project (in the order given). */
export async function findInvalidMembers(_db: LakeDb, _projectId: string, ids: string[]): Promise<string[]> {
  return ids.filter((id) => id.length === 0 || id.length > 128);
}

export interface MemberNode {
  id: string;
  path: string | null;
  kind: string | null;
  size: number | null;
  contentType: string | null;
}

/** The nodes behind member IDs, in the order given (for `?expand=nodes`). */
export async function expandMembers(_db: LakeDb, _projectId: string, ids: string[]): Promise<MemberNode[]> {
  return ids.map((id) => ({ id, path: null, kind: null, size: null, contentType: null }));
}

/** Live leaf counts per kind across a namespace's live projects. */
export async function countLiveAssets(_db: LakeDb, _namespaceId: string): Promise<Record<string, number>> {
  return {};
}
