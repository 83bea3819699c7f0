import { Type, type Static } from '@sinclair/typebox';
import { MAX_PART_NUMBER } from '../../core/blobs/fs-multipart.js';
import { Metadata } from '../schemas.js';

// Bodies of the blob service (BSS) routes as the original clients send them (ORIGINAL-CLIENT-PROTOCOL §5.4, §6).

const Hash = Type.String({ pattern: '^[0-9a-fA-F]{16,64}$', description: 'The first 16 (or more) hex digits of the sha256 of the whole file' });
const UploadId = Type.String({ minLength: 1, maxLength: 64 });
const Key = Type.String({ minLength: 1, maxLength: 300 });
const PartNumber = Type.Integer({ minimum: 1, maximum: MAX_PART_NUMBER });
const ContentType = Type.String({ maxLength: 255 });
const Text = (maxLength: number) => Type.String({ maxLength });

export const InitBody = Type.Object(
  { owner: Type.String({ minLength: 1, maxLength: 200 }), project: Type.String({ minLength: 1, maxLength: 200 }), hash: Hash, contentType: Type.Optional(ContentType) },
  { additionalProperties: false },
);
export type InitBody = Static<typeof InitBody>;

export const InitAnswer = Type.Object({
  uploadId: Type.String(),
  key: Type.String(),
  partSize: Type.Integer({ description: 'Suggested part size in bytes' }),
  expiresAt: Type.String({ description: 'When the staged upload is discarded if not completed' }),
});

export const UploadRef = Type.Object({ uploadId: UploadId, key: Key }, { additionalProperties: false });

export const PartsBody = Type.Object(
  { uploadId: UploadId, key: Key, partNumbers: Type.Array(PartNumber, { minItems: 1, maxItems: MAX_PART_NUMBER }) },
  { additionalProperties: false },
);

export const PartsAnswer = Type.Object({
  parts: Type.Record(Type.String(), Type.String(), { description: 'Part number → absolute URL to PUT the bytes to (no Authorization header)' }),
  expiresAt: Type.String(),
});

const Part = Type.Object({ partNumber: PartNumber, etag: Type.String({ maxLength: 100 }) }, { additionalProperties: true });

export const PartsDoneAnswer = Type.Object({
  parts: Type.Array(Type.Object({ partNumber: Type.Integer(), etag: Type.String(), size: Type.Integer() })),
  expired: Type.Boolean(),
});

export const CompleteBody = Type.Object(
  {
    uploadId: UploadId,
    key: Key,
    parts: Type.Array(Part, { minItems: 1, maxItems: MAX_PART_NUMBER, description: 'Extra fields on each part (as parts-done lists them) are accepted' }),
    size: Type.Optional(Type.Integer({ minimum: 0, description: 'Bytes of the whole file; checked when given' })),
  },
  { additionalProperties: false },
);
export type CompleteBody = Static<typeof CompleteBody>;

export const CompleteAnswer = Type.Object({ uploadId: Type.String(), key: Type.String(), sha256: Type.String(), size: Type.Integer() });

export const AbortAnswer = Type.Object({ aborted: Type.Literal(true) });

export const RegisterBody = Type.Object(
  {
    stagingHash: Hash,
    name: Type.String({ minLength: 1, maxLength: 8192 }),
    owner: Type.Optional(Text(200)),
    project: Type.Optional(Text(200)),
    kind: Type.Optional(Text(64)),
    contentType: Type.Optional(ContentType),
    size: Type.Optional(Type.Integer({ minimum: 0 })),
    originalName: Type.Optional(Text(1024)),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);
export type RegisterBody = Static<typeof RegisterBody>;

export const FileAnswer = Type.Object({
  id: Type.String({ description: 'The bssId' }),
  hash: Type.String({ description: 'The full hex sha256 of the content' }),
  name: Type.String(),
  originalName: Type.Union([Type.String(), Type.Null()]),
  size: Type.Integer(),
  contentType: Type.String(),
  kind: Type.Union([Type.String(), Type.Null()]),
  owner: Type.Union([Type.String(), Type.Null()]),
  project: Type.Union([Type.String(), Type.Null()]),
  metadata: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
  createdAt: Type.String(),
});

export const FileParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

export const DownloadAnswer = Type.Object({
  url: Type.String({ description: 'Absolute URL that serves the bytes without any header (ranges, ETag, 304)' }),
  expiresAt: Type.String(),
});

export const PartQuery = Type.Object({
  uploadId: UploadId,
  partNumber: PartNumber,
  expires: Type.Integer(),
  signature: Type.String({ maxLength: 100 }),
});

export const SignedDownloadQuery = Type.Object({
  sha256: Type.String({ maxLength: 64 }),
  expires: Type.Integer(),
  signature: Type.String({ maxLength: 100 }),
});
