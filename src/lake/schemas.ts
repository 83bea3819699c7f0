import { Type, type TSchema } from '@sinclair/typebox';
import { validationError } from '../core/errors.js';
import { MAX_JSON_DEPTH, valueDepthExceeds } from '../core/input-guard.js';

// Field rules shared by every DreamLake resource (the limits).
export const Name = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S', description: 'Display name' });
export const Slug = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[a-z0-9]+(?:-[a-z0-9]+)*$',
  description: 'lower-case letters, digits and single dashes',
});
export const Description = Type.Union([Type.String({ maxLength: 10_000 }), Type.Null()]);
export const Tags = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 50 });
export const Metadata = Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]);

export const METADATA_MAX_BYTES = 64 * 1024;

/** Metadata objects are free-form but bounded, so that one row cannot grow without limit. */
export function checkMetadata(metadata: unknown, field = 'metadata'): void {
  if (metadata === undefined || metadata === null) return;
  // Bodies are depth-bounded when parsed (core/input-guard.ts); checked again here, without recursion,
  // because JSON.stringify below recurses and metadata might one day come from elsewhere.
  if (valueDepthExceeds(metadata)) throw validationError(`${field} nests more than ${MAX_JSON_DEPTH} levels.`);
  if (Buffer.byteLength(JSON.stringify(metadata)) > METADATA_MAX_BYTES) {
    throw validationError(`${field} must be at most ${METADATA_MAX_BYTES} bytes of JSON.`);
  }
}

/**
 * Dataset and collection names are path segments of their URLs: "." and ".." would be unreachable there (URL
 * parsers in browsers, fetch and curl resolve them as dot segments, percent-encoded or not).
 */
export function checkAddressableName(name: string | undefined, field = 'name'): void {
  if (name === '.' || name === '..') throw validationError(`${field} must not be "." or "..": a URL cannot address that name.`);
}

export const ErrorBody = Type.Object({ error: Type.String(), message: Type.String() });

export const SuccessBody = Type.Object({ success: Type.Literal(true) });

/** Standard error responses for the OpenAPI document. */
export function errors(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(statuses.map((s) => [s, ErrorBody]));
}

export const NamespaceParams = Type.Object({ slug: Type.String({ maxLength: 200 }) });
export const ProjectParams = Type.Object({ slug: Type.String({ maxLength: 200 }), projectSlug: Type.String({ maxLength: 200 }) });

/** Lower-case; runs of other characters become "-"; trimmed; at most 64 characters. */
export function slugify(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64)
    .replace(/-+$/, '');
}

export function slugFromName(name: string): string {
  const slug = slugify(name);
  if (!slug) throw validationError('name gives an empty slug; send an explicit slug.');
  return slug;
}
