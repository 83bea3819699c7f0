import { AppError } from '../../core/errors.js';

// Node names and paths. A path is `/` followed by names joined with `/` (`/camera/front/x.mp4`). Names never
// reach the filesystem (blobs are stored under their digest), but anything that looks like traversal or
// could be read differently by another tool is refused with a 400 all the same.

export const MAX_NAME_BYTES = 255;
export const MAX_DEPTH = 64;
/**
 * Paths are indexed (unique per project): PostgreSQL refuses an index entry over 2,704 bytes, so a path is
 * at most 2,048 bytes of UTF-8 on both databases.
 */
export const MAX_PATH_BYTES = 2048;

export const invalidPath = (message: string) => new AppError(400, 'invalid_path', message);

// Control characters (NUL included), and lone UTF-16 surrogates that cannot be stored as UTF-8.
const FORBIDDEN = /\p{Cc}|\p{Cs}/u; // Cc: U+0000–U+001F and U+007F–U+009F

/** Checks one node name; answers it unchanged. */
export function checkName(name: string, field = 'name'): string {
  if (name.length === 0) throw invalidPath(`${field} must not be empty.`);
  if (name === '.' || name === '..') throw invalidPath(`${field} must not be "." or "..".`);
  if (name.includes('/')) throw invalidPath(`${field} must not contain "/".`);
  if (name.includes('\\')) throw invalidPath(`${field} must not contain a backslash.`);
  if (FORBIDDEN.test(name)) throw invalidPath(`${field} must not contain control characters.`);
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) throw invalidPath(`${field} must be at most ${MAX_NAME_BYTES} bytes.`);
  if (name.includes('%') && readsAsTraversal(name)) throw invalidPath(`${field} must not be "." or ".." or hold "/" or a backslash once percent-decoded.`);
  return name;
}

/** `%2e%2e`, `%2E.`, `a%2Fb`…: a name a tool that percent-decodes paths would read as traversal or as two names. */
function readsAsTraversal(name: string): boolean {
  let decoded: string;
  try {
    decoded = decodeURIComponent(name);
  } catch {
    return false; // `100%.txt`: no tool can decode it into anything else
  }
  return decoded === '.' || decoded === '..' || decoded.includes('/') || decoded.includes('\\');
}

function checkSegments(segments: string[], field: string): string[] {
  if (segments.length > MAX_DEPTH) throw invalidPath(`Too deep: ${field} has more than ${MAX_DEPTH} levels.`);
  for (const segment of segments) checkName(segment, `Each part of ${field}`);
  return checkPathLimits(segments, field);
}

/**
 * The limits of a whole path, in levels and bytes: for a path put together from parts checked on their own
 * (an episode's folder and its name, an episode's path and a file path inside it).
 */
export function checkPathLimits(segments: string[], field = 'path'): string[] {
  if (segments.length > MAX_DEPTH) throw invalidPath(`Too deep: ${field} has more than ${MAX_DEPTH} levels.`);
  if (Buffer.byteLength(joinPath(segments)) > MAX_PATH_BYTES) throw invalidPath(`Too long: ${field} has more than ${MAX_PATH_BYTES} bytes.`);
  return segments;
}

/** How many levels deep a path is (`/a/b` → 2). */
export function depthOf(path: string): number {
  return path.split('/').length - 1;
}

const FILE_PATH = 'the file path';

/**
 * A node path given in a body or query (`/a/b`, `a/b` or `a/b/`): the names in it. `/` alone is the root
 * (no names). Empty parts (`a//b`), `.`, `..`, backslashes and control characters are refused.
 */
export function parseNodePath(raw: string, field = 'path'): string[] {
  if (raw.includes('\\')) throw invalidPath(`${field} must not contain a backslash.`);
  const trimmed = raw.replace(/^\//, '').replace(/\/$/, '');
  if (trimmed === '') return [];
  return checkSegments(trimmed.split('/'), field);
}

/**
 * The path of `PUT …/files/*`, taken from the raw (still percent-encoded) URL so that an encoded `/`, `.`
 * or `\` cannot hide inside one part: each part is decoded on its own and then checked. A leading `/`
 * (an absolute path, `…/files//etc/passwd`) is refused.
 */
export function parseUrlPath(rawTail: string): string[] {
  if (rawTail === '') throw invalidPath('The file path is missing.');
  if (rawTail.startsWith('/')) throw invalidPath('The file path must be relative (no leading "/").');
  const segments = rawTail.split('/').map((part) => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw invalidPath('The file path is not valid percent-encoded UTF-8.');
    }
  });
  return checkSegments(segments, FILE_PATH);
}

export function joinPath(segments: string[]): string {
  return `/${segments.join('/')}`;
}

/** Every ancestor path of `segments` and the path itself: `[/a, /a/b, /a/b/c]`. */
export function prefixPaths(segments: string[]): string[] {
  return segments.map((_, i) => joinPath(segments.slice(0, i + 1)));
}

/**
 * The half-open byte range `[path/, path0)` holding exactly the paths below `path` ('0' follows '/'),
 * which both dialects answer from the (project_id, path) index.
 */
export function subtreeRange(path: string): { from: string; to: string } {
  return { from: `${path}/`, to: `${path}0` };
}

export function isWithin(path: string, ancestor: string): boolean {
  return path === ancestor || path.startsWith(`${ancestor}/`);
}
