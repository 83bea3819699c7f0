import { Type, type Static } from '@sinclair/typebox';
import { PageFields } from '../../core/pagination.js';
import { ROLES } from '../policies.js';
import { Metadata, Name, Slug } from '../schemas.js';

export const NamespaceBody = Type.Object({
  id: Type.String(),
  slug: Type.String(),
  name: Type.String(),
  kind: Type.Union([Type.Literal('user'), Type.Literal('org')]),
  metadata: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
  role: Type.String({ description: "The caller's role" }),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export const NamespaceDetailBody = Type.Intersect([
  NamespaceBody,
  Type.Object({
    projects: Type.Integer({ description: 'Live projects' }),
    assets: Type.Record(Type.String(), Type.Integer(), { description: 'Live files per kind' }),
  }),
]);

export const CreateNamespace = Type.Object(
  { slug: Slug, name: Type.Optional(Name), metadata: Type.Optional(Metadata) },
  { additionalProperties: false },
);
export type CreateNamespace = Static<typeof CreateNamespace>;

export const UpdateNamespace = Type.Object(
  { slug: Type.Optional(Slug), name: Type.Optional(Name), metadata: Type.Optional(Metadata) },
  { additionalProperties: false },
);
export type UpdateNamespace = Static<typeof UpdateNamespace>;

export const NamespaceList = Type.Object({ namespaces: Type.Array(NamespaceBody), ...PageFields });

export const Role = Type.Union(ROLES.map((r) => Type.Literal(r)));

export const MemberBody = Type.Object({
  username: Type.String(),
  role: Type.String(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export const MemberList = Type.Object({ members: Type.Array(MemberBody), ...PageFields });
export const MemberParams = Type.Object({ slug: Type.String({ maxLength: 200 }), username: Type.String({ maxLength: 200 }) });
export const PutMember = Type.Object({ role: Role }, { additionalProperties: false });
