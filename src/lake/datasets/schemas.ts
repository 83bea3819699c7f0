import { Type, type Static } from '@sinclair/typebox';
import { PageFields } from '../../core/pagination.js';
import { CollectionBody } from '../collections/schemas.js';
import { Description, Metadata, Name, Tags } from '../schemas.js';

export const MAX_COLLECTIONS_PER_REQUEST = 1000;

export const DatasetParams = Type.Object({
  slug: Type.String({ maxLength: 200 }),
  projectSlug: Type.String({ maxLength: 200 }),
  name: Type.String({ maxLength: 200 }),
});

export const DatasetBody = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  tags: Type.Array(Type.String()),
  metadata: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
  projectId: Type.String(),
  bindrs: Type.Array(Type.Object({ id: Type.String(), name: Type.String() }), {
    description: 'Its live collections (bindrs, the original clients\' name), oldest first',
  }),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export const DatasetDetailBody = Type.Composite([
  DatasetBody,
  Type.Object({ collections: Type.Array(CollectionBody, { description: 'Its live collections, oldest first, with members' }) }),
]);

export const DatasetList = Type.Object({ datasets: Type.Array(DatasetBody), ...PageFields });

export const CreateDataset = Type.Object(
  {
    name: Name,
    description: Type.Optional(Description),
    tags: Type.Optional(Tags),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);
export type CreateDataset = Static<typeof CreateDataset>;

export const UpdateDataset = Type.Partial(CreateDataset, { additionalProperties: false });
export type UpdateDataset = Static<typeof UpdateDataset>;

const CollectionNames = Type.Array(Name, { minItems: 1, maxItems: MAX_COLLECTIONS_PER_REQUEST, description: 'Collection names' });
export const AttachCollections = Type.Object({ add: CollectionNames }, { additionalProperties: false });
export const DetachCollections = Type.Object({ remove: CollectionNames }, { additionalProperties: false });
/** The attach/detach routes answer under both names: …/collections and …/bindrs. */
export const ATTACH_ROUTE_NAMES = ['collections', 'bindrs'] as const;
export const AttachedBody = Type.Object({ added: Type.Integer(), total: Type.Integer() });
export const DetachedBody = Type.Object({ removed: Type.Integer(), total: Type.Integer() });
