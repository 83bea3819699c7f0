import { badRequest } from '../../core/errors.js';

export const INNER_KINDS = ['folder', 'episode'] as const;
/** The kinds the server infers for files; a client may name any other kind matching KIND_PATTERN. */
export const LEAF_KINDS = ['file', 'video', 'audio', 'image', 'text'] as const;
/** Node kinds are an open vocabulary for files (`csv`, `parquet`, `label-track`, …). */
export const KIND_PATTERN = '^[a-z][a-z0-9-]{0,31}$';
/** Kinds a file may never have: the containers, and `project` (the original clients' name for the root). */
const CONTAINER_KINDS = new Set<string>([...INNER_KINDS, 'project']);
export type InnerKind = (typeof INNER_KINDS)[number];
export type LeafKind = (typeof LEAF_KINDS)[number];

const BY_EXTENSION: Record<string, string> = {
  mp4: 'video/mp4', m4v: 'video/mp4', mov: 'video/quicktime', mkv: 'video/x-matroska', webm: 'video/webm',
  avi: 'video/x-msvideo', mpg: 'video/mpeg', mpeg: 'video/mpeg', ts: 'video/mp2t', h264: 'video/h264',
  mp3: 'audio/mpeg', wav: 'audio/wav', flac: 'audio/flac', ogg: 'audio/ogg', oga: 'audio/ogg', opus: 'audio/opus',
  m4a: 'audio/mp4', aac: 'audio/aac',
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', bmp: 'image/bmp',
  tif: 'image/tiff', tiff: 'image/tiff', svg: 'image/svg+xml', heic: 'image/heic', avif: 'image/avif',
  txt: 'text/plain', log: 'text/plain', md: 'text/markdown', csv: 'text/csv', tsv: 'text/tab-separated-values',
  json: 'application/json', jsonl: 'application/x-ndjson', ndjson: 'application/x-ndjson',
  yaml: 'application/yaml', yml: 'application/yaml', xml: 'application/xml', html: 'text/html', htm: 'text/html',
  pdf: 'application/pdf', zip: 'application/zip', gz: 'application/gzip', tar: 'application/x-tar',
};

const TEXT_TYPES = new Set(['application/json', 'application/x-ndjson', 'application/yaml', 'application/xml', 'application/javascript']);

// What HTTP clients send when the user said nothing about the type (curl --data-binary sends the form type).
const UNSPECIFIED = new Set(['', 'application/octet-stream', 'application/x-www-form-urlencoded', 'binary/octet-stream']);

export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

function mediaType(contentType: string): string {
  return contentType.split(';')[0].trim().toLowerCase();
}

/** The content type to store: the one sent, unless it says nothing, then one guessed from the extension. */
export function contentTypeFor(name: string, sent: string | undefined): string {
  if (sent !== undefined && !UNSPECIFIED.has(mediaType(sent))) return sent.trim();
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
  return BY_EXTENSION[ext] ?? DEFAULT_CONTENT_TYPE;
}

/** The leaf kind a content type suggests. */
export function kindFor(contentType: string): LeafKind {
  const type = mediaType(contentType);
  if (type.startsWith('video/')) return 'video';
  if (type.startsWith('audio/')) return 'audio';
  if (type.startsWith('image/')) return 'image';
  if (type.startsWith('text/') || TEXT_TYPES.has(type) || type.endsWith('+json')) return 'text';
  return 'file';
}

export function isLeafKind(kind: string): kind is LeafKind {
  return (LEAF_KINDS as readonly string[]).includes(kind);
}

/** The kind a client names for a file: any kind of the open vocabulary except the containers' (400 otherwise). */
export function checkFileKind(kind: string): string {
  if (!new RegExp(KIND_PATTERN).test(kind) || CONTAINER_KINDS.has(kind)) {
    throw badRequest(`kind "${kind}" is not a file kind: use lower-case letters, digits and "-" (at most 32, not folder, episode or project).`, 'invalid_kind');
  }
  return kind;
}

const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * The kind the original clients name (`--type`, "any string": ORIGINAL-CLIENT-PROTOCOL §4, §9), kept as sent: at
 * most 64 characters, no control characters, never a container's kind (400 otherwise). An empty one says nothing.
 */
export function checkClientKind(kind: string): string | undefined {
  if (kind === '') return undefined;
  if (kind.length > 64 || CONTROL.test(kind) || CONTAINER_KINDS.has(kind)) {
    throw badRequest(`kind "${kind}" is not a file kind: at most 64 characters, no control characters, not folder, episode or project.`, 'invalid_kind');
  }
  return kind;
}

/** A `?kind=` filter: any kind a node may have (those the original clients name are free-form). */
export const KIND_FILTER_MAX_LENGTH = 64;
