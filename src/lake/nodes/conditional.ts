import { preconditionFailed } from '../../core/errors.js';
import { etagListNames } from '../../core/etag.js';

// HTTP validators for files: the ETag of a file is its quoted sha256, so it changes exactly when the bytes do.

export const etagOf = (sha256: string) => `"${sha256}"`;

/** True when an If-None-Match / If-Match list names `sha256` (or is `*` and the file exists). */
export function etagListMatches(header: string, sha256: string | null): boolean {
  return sha256 !== null && etagListNames(header, sha256);
}

export interface WritePreconditions {
  ifMatch?: string;
  ifNoneMatch?: string;
}

/** Checks the preconditions of a PUT against the current file (`null` when there is none): 412 when one fails. */
export function checkWritePreconditions(pre: WritePreconditions, currentSha256: string | null): void {
  if (pre.ifNoneMatch !== undefined && etagListMatches(pre.ifNoneMatch, currentSha256)) {
    throw preconditionFailed(
      pre.ifNoneMatch.trim() === '*' ? 'A file already exists at this path (If-None-Match: *).' : 'The file matches If-None-Match.',
    );
  }
  if (pre.ifMatch !== undefined && !etagListMatches(pre.ifMatch, currentSha256)) {
    throw preconditionFailed(currentSha256 === null ? 'No file exists at this path (If-Match).' : 'The file does not match If-Match.');
  }
}
