import { Type, type Static } from '@sinclair/typebox';
import { PageFields } from '../../core/pagination.js';
import { KIND_FILTER_MAX_LENGTH } from '../nodes/kinds.js';

// Request and answer shapes of the original clients' flat node routes (ORIGINAL-CLIENT-PROTOCOL.md §5).

const Slugish = Type.String({ minLength: 1, maxLength: 200 });
const PathString = Type.String({ minLength: 1, maxLength: 8192 });
const EpisodeName = Type.String({ minLength: 1, maxLength: 1024, description: 'An episode name (unique in the project)' });

export const ScopeQuery = Type.Object({
  namespace: Type.Optional(Slugish),
  project: Type.Optional(Slugish),
});

export const IdParams = Type.Object({ id: Type.String({ maxLength: 128 }) });

export const OriginalNode = Type.Object(
  {
    id: Type.String(),
    name: Type.String({ description: 'The last segment of the path (the project slug for a project)' }),
    path: Type.String({ description: "The parent's comma path rooted at the project slug, e.g. ,robotics-lab,camera,front," }),
    kind: Type.String({ description: 'project, folder, episode, or a file kind' }),
    projectId: Type.String(),
    parentId: Type.Union([Type.String(), Type.Null()]),
    episodeNodeId: Type.Union([Type.String(), Type.Null()], { description: 'The episode the node lies in (itself for an episode)' }),
    nodePath: Type.Optional(Type.String({ description: 'Episodes: the path rooted at the project slug, e.g. /robotics-lab/drive-0412' })),
    status: Type.Optional(Type.String()),
    tags: Type.Array(Type.String()),
    metadata: Type.Object({}, { additionalProperties: true, description: 'Files: size, hash (16 hex digits), sha256, contentType' }),
    createdAt: Type.String(),
    updatedAt: Type.String(),
  },
);

export const CreateOriginalNode = Type.Object(
  {
    namespace: Slugish,
    project: Slugish,
    name: PathString,
    kind: Type.Optional(Type.String({ maxLength: 64 })),
    episode: Type.Optional(EpisodeName),
    metadata: Type.Object(
      {
        bssId: Type.Optional(Type.String({ maxLength: 128 })),
        hash: Type.Optional(Type.String({ maxLength: 64 })),
        size: Type.Optional(Type.Integer({ minimum: 0 })),
        contentType: Type.Optional(Type.String({ maxLength: 255 })),
      },
      { additionalProperties: true, description: 'The registered content: bssId (from POST /files) and/or hash' },
    ),
  },
  { additionalProperties: false },
);
export type CreateOriginalNode = Static<typeof CreateOriginalNode>;

export const LookupQuery = Type.Object({
  namespace: Slugish,
  project: Slugish,
  path: PathString,
  episode: Type.Optional(EpisodeName),
});

const KindFilter = Type.Optional(Type.String({ minLength: 1, maxLength: KIND_FILTER_MAX_LENGTH, description: 'Only nodes of this kind (any string: the original clients name kinds freely)' }));
const Page = Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000_000, default: 1 }));

export const ListQuery = Type.Object({
  namespace: Slugish,
  project: Slugish,
  kind: KindFilter,
  prefix: Type.Optional(Type.String({ maxLength: 8192, description: 'Only nodes whose path (relative to the scope) starts with this' })),
  episode: Type.Optional(EpisodeName),
  page: Page,
  pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50, description: 'Clamped to 200' })),
});

export const MAX_CONTENTS_PAGE = 500;

export const ContentsQuery = Type.Object({
  ...ScopeQuery.properties,
  kind: KindFilter,
  page: Page,
  pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_CONTENTS_PAGE, default: 100 })),
});

export const NodeListBody = Type.Object({ nodes: Type.Array(OriginalNode), ...PageFields });
export const ContentsBody = Type.Object({
  files: Type.Array(OriginalNode),
  filePageCount: Type.Integer(),
  ...PageFields,
});
export const DeletedBody = Type.Object({ success: Type.Literal(true), deleted: Type.Integer() });
