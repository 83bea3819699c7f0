import { Type } from '@sinclair/typebox';

// Pieces shared by the Dreamscript routes.

/** int64 IDs travel as JSON numbers; they stay below 2^53 so that JavaScript clients read them exactly. */
export const Id = Type.Integer({ format: 'int64', minimum: 1, maximum: Number.MAX_SAFE_INTEGER });

/** An int64 in responses. */
export const Int64 = Type.Integer({ format: 'int64' });

/** Text that must say something: not empty, not only blanks. */
export const NonBlank = (maxLength: number, description: string) =>
  Type.String({ minLength: 1, maxLength, pattern: '\\S', description });

export const ErrorBody = Type.Object({ error: Type.String(), message: Type.String() });

/** Error responses every route may give, for the OpenAPI document. */
export const ERRORS = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 429: ErrorBody };

/** Error responses of routes that take a body: too large, or not JSON. */
export const BODY_ERRORS = { 413: ErrorBody, 415: ErrorBody };
