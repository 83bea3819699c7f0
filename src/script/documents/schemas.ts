import { Type, type Static } from '@sinclair/typebox';
import { Id, Int64, NonBlank } from '../schemas.js';
import { REV_PATTERN } from './revs.js';

/** A revision, in every form the CouchDB endpoint takes (revs.ts). */
export const Rev = Type.String({ pattern: REV_PATTERN, description: 'A revision, e.g. 2-8f2c…' });

const Title = NonBlank(1000, 'Document title');
const Content = Type.String({ maxLength: 1024 * 1024, description: 'Document text' });
const NullableContent = Type.Union([Content, Type.Null()]);
const ProjectRef = Type.Union([Id, Type.Null()], { description: 'The project holding the document, or null' });

export const DocumentParams = Type.Object({ documentId: Id }, { additionalProperties: false });
export const RevQuery = Type.Object({ rev: Type.Optional(Rev) }, { additionalProperties: false });

export const NewDocument = Type.Object(
  { title: Title, content: Type.Optional(Content), projectId: Type.Optional(ProjectRef) },
  { additionalProperties: false },
);
export type NewDocument = Static<typeof NewDocument>;

export const ReplaceDocument = Type.Object(
  { title: Title, content: Type.Optional(NullableContent), projectId: Type.Optional(ProjectRef), _rev: Type.Optional(Rev) },
  { additionalProperties: false, description: 'The whole document: omitted fields are cleared' },
);
export type ReplaceDocument = Static<typeof ReplaceDocument>;

export const PatchDocument = Type.Object(
  {
    title: Type.Optional(Title),
    content: Type.Optional(NullableContent),
    projectId: Type.Optional(ProjectRef),
    _rev: Type.Optional(Rev),
  },
  { additionalProperties: false, description: 'Fields to change: omitted ones are kept, null clears' },
);
export type PatchDocument = Static<typeof PatchDocument>;

export const Document = Type.Object({
  id: Int64,
  title: Type.String(),
  content: Type.Optional(Type.String()),
  projectId: Type.Optional(Int64),
  _rev: Type.String(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export type Document = Static<typeof Document>;

export const Revision = Type.Object({
  _rev: Type.String(),
  deleted: Type.Optional(Type.Boolean()),
  createdAt: Type.String(),
});

/** The optional body of a DELETE: the revision it deletes, as `?rev=` or If-Match say it. */
export const DeleteBody = Type.Object({ _rev: Type.Optional(Rev) }, { additionalProperties: false });

export const Deleted = Type.Object({ id: Int64, _rev: Type.String(), deleted: Type.Literal(true) });

/** One entry of a bulk request: without `id` it creates, with `id` it replaces (or deletes, `_deleted`). */
export const BulkItem = Type.Object(
  {
    id: Type.Optional(Id),
    _rev: Type.Optional(Rev),
    _deleted: Type.Optional(Type.Boolean()),
    title: Type.Optional(Title),
    content: Type.Optional(NullableContent),
    projectId: Type.Optional(ProjectRef),
  },
  { additionalProperties: false },
);
export type BulkItem = Static<typeof BulkItem>;

export const MAX_BULK = 1000;

// Items are checked one by one (a bad item fails alone, as in CouchDB's _bulk_docs), so here they are
// only required to be objects.
export const BulkBody = Type.Object(
  { docs: Type.Array(Type.Object({}), { minItems: 1, maxItems: MAX_BULK }) },
  { additionalProperties: false },
);

export const BulkResult = Type.Union([
  Type.Object({ id: Int64, _rev: Type.String() }),
  Type.Object({ id: Type.Optional(Int64), error: Type.String(), message: Type.String() }),
]);
