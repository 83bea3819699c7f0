import { Type, type Static } from '@sinclair/typebox';
import { Id, Int64, NonBlank } from '../schemas.js';

export const ProjectParams = Type.Object({ projectId: Id }, { additionalProperties: false });

export const NewProject = Type.Object(
  {
    name: NonBlank(200, 'Project name'),
    description: Type.Optional(Type.String({ maxLength: 10_000 })),
  },
  { additionalProperties: false },
);
export type NewProject = Static<typeof NewProject>;

export const ProjectPatch = Type.Object(
  {
    name: Type.Optional(NonBlank(200, 'Project name')),
    description: Type.Optional(Type.Union([Type.String({ maxLength: 10_000 }), Type.Null()], { description: 'null clears it' })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type ProjectPatch = Static<typeof ProjectPatch>;

export const Project = Type.Object({
  id: Int64,
  name: Type.String(),
  description: Type.Optional(Type.String()),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export type Project = Static<typeof Project>;
