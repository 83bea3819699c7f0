import { Type, type Static } from '@sinclair/typebox';
import { PageFields } from '../../core/pagination.js';
import { Description, Metadata, ProjectParams, Tags } from '../schemas.js';

export const EPISODE_STATUSES = ['running', 'completed', 'failed', 'archived'] as const;
const Status = Type.Union(EPISODE_STATUSES.map((s) => Type.Literal(s)), { description: 'running (default), completed, failed or archived' });
const Folder = Type.String({ minLength: 1, maxLength: 2048, description: 'Folder path holding the episode (created if missing); / is the root' });
const EpisodeName = Type.String({ minLength: 1, maxLength: 1024, description: 'Unique in the project; also the node name' });

export const EpisodeBody = Type.Object({
  id: Type.String({ description: 'The node ID of the episode' }),
  name: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  status: Type.String(),
  tags: Type.Array(Type.String()),
  metadata: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
  path: Type.String(),
  nodePath: Type.String({ description: 'The path rooted at the project slug, e.g. /robotics-lab/drive-0412 (the original clients read it)' }),
  folder: Type.String(),
  parentId: Type.Union([Type.String(), Type.Null()]),
  projectId: Type.String(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export const EpisodeList = Type.Object({ episodes: Type.Array(EpisodeBody), ...PageFields });

export const UpsertEpisode = Type.Object(
  {
    name: EpisodeName,
    description: Type.Optional(Description),
    tags: Type.Optional(Tags),
    status: Type.Optional(Status),
    folder: Type.Optional(Folder),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);
export type UpsertEpisode = Static<typeof UpsertEpisode>;

export const UpdateEpisode = Type.Partial(UpsertEpisode, { additionalProperties: false });
export type UpdateEpisode = Static<typeof UpdateEpisode>;

export const EpisodeParams = Type.Object({ ...ProjectParams.properties, name: Type.String({ maxLength: 1024 }) });
