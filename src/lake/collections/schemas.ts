import { Type, type Static } from '@sinclair/typebox';
import { PageFields, PageQuery } from '../../core/pagination.js';
import { Description, Metadata, Name, Tags } from '../schemas.js';

/** At most this many member IDs per request (create, PATCH, add, remove); larger sets go in several calls. */
export const MAX_MEMBERS_PER_REQUEST = 10_000;

const IdRef = Type.String({ minLength: 1, maxLength: 200 });
// Member IDs are checked against the node tree (nodes/membership.ts), which lists the offending ones.
const MemberIds = Type.Array(Type.String({ maxLength: 1024 }), { maxItems: MAX_MEMBERS_PER_REQUEST, description: 'Node IDs (files or episodes of this project)' });
const NonEmptyMemberIds = Type.Array(Type.String({ maxLength: 1024 }), { minItems: 1, maxItems: MAX_MEMBERS_PER_REQUEST });

export const CollectionParams = Type.Object({
  slug: Type.String({ maxLength: 200 }),
  projectSlug: Type.String({ maxLength: 200 }),
  name: Type.String({ maxLength: 200 }),
});

export const CollectionBody = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  tags: Type.Array(Type.String()),
  metadata: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
  members: Type.Array(Type.String()),
  datasetId: Type.Union([Type.String(), Type.Null()]),
  projectId: Type.String(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export const MemberNode = Type.Object(
  {
    id: Type.String(),
    path: Type.Union([Type.String(), Type.Null()]),
    kind: Type.Union([Type.String(), Type.Null()]),
    size: Type.Union([Type.Number(), Type.Null()]),
    contentType: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: true },
);

export const ExpandedCollectionBody = Type.Composite([
  CollectionBody,
  Type.Object({ nodes: Type.Optional(Type.Array(MemberNode, { description: 'Member nodes, with ?expand=nodes' })) }),
]);

export const GetCollectionQuery = Type.Object({
  expand: Type.Optional(Type.Literal('nodes', { description: 'nodes: also return the member nodes' })),
});

export const ListCollectionsQuery = Type.Composite([
  PageQuery,
  Type.Object({ datasetId: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Only collections of this dataset' })) }),
]);
export type ListCollectionsQuery = Static<typeof ListCollectionsQuery>;

/** `bindrs` is the original clients' name for collections. */
export type CollectionAlias = 'collections' | 'bindrs';
export const collectionList = (key: CollectionAlias) => Type.Object({ [key]: Type.Array(CollectionBody), ...PageFields });

export const CreateCollection = Type.Object(
  {
    name: Name,
    description: Type.Optional(Description),
    tags: Type.Optional(Tags),
    metadata: Type.Optional(Metadata),
    datasetId: Type.Optional(Type.Union([IdRef, Type.Null()], { description: 'Parent dataset ID (null = standalone)' })),
    members: Type.Optional(MemberIds),
  },
  { additionalProperties: false },
);
export type CreateCollection = Static<typeof CreateCollection>;

export const UpdateCollection = Type.Partial(CreateCollection, { additionalProperties: false });
export type UpdateCollection = Static<typeof UpdateCollection>;

export const AddMembers = Type.Object({ add: NonEmptyMemberIds }, { additionalProperties: false });
export const RemoveMembers = Type.Object(
  { remove: Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { minItems: 1, maxItems: MAX_MEMBERS_PER_REQUEST }) },
  { additionalProperties: false },
);

export const PreferHeaders = Type.Object({
  prefer: Type.Optional(Type.String({ maxLength: 1024, description: 'return=minimal (RFC 7240) leaves out the full members list' })),
});

const members = Type.Optional(Type.Array(Type.String(), { description: 'All members; omitted with Prefer: return=minimal' }));
export const AddedBody = Type.Object({ members, added: Type.Integer(), total: Type.Integer() });
export const RemovedBody = Type.Object({ members, removed: Type.Integer(), total: Type.Integer() });
