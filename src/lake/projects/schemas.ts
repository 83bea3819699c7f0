import { Type, type Static } from '@sinclair/typebox';
import { PageFields } from '../../core/pagination.js';
import { Description, Metadata, Name, Slug, Tags } from '../schemas.js';

const Visibility = Type.Union([Type.Literal('private'), Type.Literal('public')], {
  description: 'private (default): members only; public: readable, never writable, by every signed-in user',
});

export const ProjectBody = Type.Object({
  id: Type.String(),
  name: Type.String(),
  slug: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  tags: Type.Array(Type.String()),
  metadata: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
  namespaceId: Type.String(),
  visibility: Type.String({ description: 'private (members only) or public (readable by every signed-in user)' }),
  bindrCount: Type.Integer({ description: 'Live collections (bindrs)' }),
  datasetCount: Type.Integer({ description: 'Live datasets' }),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export const CreateProject = Type.Object(
  {
    name: Name,
    slug: Type.Optional(Slug),
    description: Type.Optional(Description),
    tags: Type.Optional(Tags),
    metadata: Type.Optional(Metadata),
    visibility: Type.Optional(Visibility),
  },
  { additionalProperties: false },
);
export type CreateProject = Static<typeof CreateProject>;

export const UpdateProject = Type.Partial(CreateProject, { additionalProperties: false });
export type UpdateProject = Static<typeof UpdateProject>;

export const projectList = (key: 'projects' | 'spaces') =>
  Type.Object({ [key]: Type.Array(ProjectBody), ...PageFields });
