import { Type, type Static } from '@sinclair/typebox';
import { Id, Int64 } from '../schemas.js';

export const KeyParams = Type.Object({ keyId: Id }, { additionalProperties: false });

export const NewKeyBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    projects: Type.Optional(Type.Array(Id, { minItems: 1, maxItems: 1000, description: 'Limit the key to these projects' })),
    readOnly: Type.Optional(Type.Boolean()),
    admin: Type.Optional(Type.Boolean({ description: 'May manage keys; cannot be combined with projects or readOnly' })),
  },
  { additionalProperties: false },
);
export type NewKeyBody = Static<typeof NewKeyBody>;

export const Key = Type.Object({
  id: Int64,
  name: Type.Optional(Type.String()),
  prefix: Type.String({ description: 'The first characters of the secret' }),
  projects: Type.Optional(Type.Array(Int64, { description: 'Absent: every project' })),
  readOnly: Type.Boolean(),
  admin: Type.Boolean(),
  createdAt: Type.String(),
});
export type Key = Static<typeof Key>;

export const CreatedKey = Type.Intersect([Key, Type.Object({ key: Type.String({ description: 'The secret: shown only now' }) })]);
