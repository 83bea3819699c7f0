import { badRequest, notFound } from '../../core/errors.js';
import type { LakeDb, NodesTable } from '../db.js';
import { checkClientKind, contentTypeFor, kindFor } from '../nodes/kinds.js';
import { invalidPath, parseNodePath } from '../nodes/paths.js';
import { putFile } from '../nodes/write.js';
import type { CreateOriginalNode } from './node-schemas.js';
import { findRegisteredContent } from './registered-content.js';

/** Checks what can be checked before any lookup: the path and the kind (400s). */
export function checkCreate(body: CreateOriginalNode): { segments: string[]; kind: string | undefined } {
  const segments = parseNodePath(body.name, 'name');
  if (!segments.length) throw invalidPath('name must name a file below the root.');
  return { segments, kind: body.kind === undefined ? undefined : checkClientKind(body.kind) };
}

/**
 * `POST /nodes`: the file node at `name` (in `episode`, made at the project root when missing) pointed at
 * content the caller registered with `POST /files`. The same upload code as `PUT …/files/*` (putFile: path
 * rules, counts, the tree lock, a replaced file keeping its ID and collections); only the bytes come from
 * the blob service instead of the request body.
 */
export async function createFromRegistered(db: LakeDb, userId: string, projectId: string, body: CreateOriginalNode): Promise<{ node: NodesTable; created: boolean }> {
  const { segments, kind } = checkCreate(body);
  const { bssId, hash, size } = body.metadata;
  const content = await findRegisteredContent(db, userId, { bssId, hash });
  if (!content) throw notFound('No registered file matches metadata.bssId / metadata.hash: upload it with POST /files first.');
  if (size !== undefined && size !== content.size) {
    throw badRequest(`metadata.size ${size} differs from the registered file's ${content.size} bytes.`, 'size_mismatch');
  }
  const contentType = contentTypeFor(segments[segments.length - 1], body.metadata.contentType ?? content.contentType);
  return putFile(
    db,
    projectId,
    { segments, episode: body.episode, createEpisode: true, preconditions: {} },
    { sha256: content.sha256, size: content.size, contentType, kind: kind ?? kindFor(contentType) },
  );
}
