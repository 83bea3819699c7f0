import { Type, type Static } from '@sinclair/typebox';
import { PageFields, PageQuery } from '../../core/pagination.js';
import { Metadata, ProjectParams, Tags } from '../schemas.js';
import { KIND_FILTER_MAX_LENGTH, KIND_PATTERN } from './kinds.js';


export const NodeBody = Type.Object({
  id: Type.String(),
  projectId: Type.String(),
  parentId: Type.Union([Type.String(), Type.Null()]),
  name: Type.String(),
  path: Type.String({ description: 'Full path from the project root, e.g. /camera/front/x.mp4' }),
  kind: Type.String({ description: 'folder or episode (inner nodes); file, video, audio, image or text (leaves)' }),
  leaf: Type.Boolean(),
  tags: Type.Array(Type.String()),
  metadata: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
  size: Type.Union([Type.Integer(), Type.Null()], { description: 'Bytes (files only)' }),
  contentType: Type.Union([Type.String(), Type.Null()], { description: 'Files only' }),
  sha256: Type.Union([Type.String(), Type.Null()], { description: 'Hex digest of the content (files only); also the ETag' }),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  description: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'Episodes only' })),
  status: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'Episodes only' })),
});

export const NodeList = Type.Object({ nodes: Type.Array(NodeBody), ...PageFields });

const PathString = Type.String({ minLength: 1, maxLength: 2048, description: "At most 2,048 bytes of UTF-8" });

export const CreateNode = Type.Object(
  {
    path: PathString,
    kind: Type.Union([Type.Literal('folder'), Type.Literal('episode')]),
    tags: Type.Optional(Tags),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);
export type CreateNode = Static<typeof CreateNode>;

export const UpdateNode = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    parentId: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 128 }), Type.Null()], { description: 'null moves to the root' })),
    tags: Type.Optional(Tags),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);
export type UpdateNode = Static<typeof UpdateNode>;

export const NodeParams = Type.Object({ ...ProjectParams.properties, id: Type.String({ maxLength: 128 }) });

export const CHILD_SORTS = ['folders', 'name', 'kind', 'size', 'updatedAt', 'createdAt'] as const;
export type ChildSort = (typeof CHILD_SORTS)[number];

export const ChildrenQuery = Type.Object({
  ...PageQuery.properties,
  parentId: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'A folder or episode; the root when absent' })),
  sort: Type.Optional(
    Type.Union(CHILD_SORTS.map((s) => Type.Literal(s)), {
      default: 'folders',
      description: 'folders: folders and episodes first, then by name (byte order); the others break ties by name, so pages never overlap',
    }),
  ),
  order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'asc', description: 'desc: largest, newest, last by name first (folders stay first with sort=folders)' })),
});

export const LookupQuery = Type.Object({ path: PathString });

export const DescendantsQuery = Type.Object({
  ...PageQuery.properties,
  leavesOnly: Type.Optional(Type.Boolean({ default: false })),
  kind: Type.Optional(Type.String({ minLength: 1, maxLength: KIND_FILTER_MAX_LENGTH, description: 'folder, episode, or a file kind (video, csv, label-track, or one an original client named)' })),
});

export const UploadQuery = Type.Object({
  episode: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: "Put the file inside this episode's folder" })),
  kind: Type.Optional(Type.String({ pattern: KIND_PATTERN, description: 'The file kind (inferred from the content type when absent): video, audio, image, text, file, or any kind such as csv, parquet, label-track' })),
});

export const DeletedBody = Type.Object({ success: Type.Literal(true), deleted: Type.Integer() });
