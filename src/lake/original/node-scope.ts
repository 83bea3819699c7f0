import type { FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import { preparedQuery } from '../../core/db/prepared-query.js';
import { AppError } from '../../core/errors.js';
import { currentUser } from '../auth.js';
import type { LakeDb, NodesTable, ProjectsTable } from '../db.js';
import { prefixedNodeColumns, splitNode, type PrefixedNode } from '../nodes/columns.js';
import { nodeNotFound } from '../nodes/tree.js';
import { ensureAllowed, type Action } from '../policies.js';
import { effectiveRole, resolveProject } from '../scope.js';

// The original clients name a node by its ID alone (`/nodes/{id}`), and a project's ID works as the ID of its
// root node. The flat routes find the node, its project and the caller's membership in one query, and take
// the caller's role from effectiveRole as the project-scoped routes do, so what a role allows lives in one place.

export interface NodeScope {
  project: ProjectsTable;
  namespaceSlug: string;
  /** The node; null when the ID is the project's own (its root). */
  node: NodesTable | null;
}

export interface ScopeParams {
  namespace?: string;
  project?: string;
}

/** The live project named by `namespace`/`project` parameters, checked for the caller. */
export async function projectByParams(db: LakeDb, request: FastifyRequest, params: ScopeParams, action?: Action): Promise<ProjectsTable> {
  if (!params.namespace || !params.project) throw new AppError(400, 'validation_error', 'namespace and project are required.');
  const { project, role } = await resolveProject(db, currentUser(request).id, params.namespace, params.project);
  if (action) ensureAllowed(role, action);
  return project;
}

/**
 * The node (or project root) with this ID, checked for the caller. Everything that is not there for them
 * (unknown, deleted, another tenant's, or in another project than the `namespace`/`project` parameters
 * name) is the same 404.
 */
export async function nodeById(db: LakeDb, request: FastifyRequest, id: string, params: ScopeParams, action?: Action): Promise<NodeScope> {
  const [row] = await nodeOrRootQuery(db, { id, userId: currentUser(request).id });
  if (!row) throw nodeNotFound();
  const { node, rest } = splitNode(row);
  const { namespaceSlug, memberRole, ...project } = rest;
  if ((params.namespace !== undefined && params.namespace !== namespaceSlug) || (params.project !== undefined && params.project !== project.slug)) {
    throw nodeNotFound();
  }
  const role = effectiveRole(memberRole, project.visibility);
  if (!role) throw nodeNotFound();
  if (action) ensureAllowed(role, action);
  return { project, namespaceSlug, node };
}

// The live project of the live node with this ID, else the live project with this ID (its root), with its
// namespace's slug and the caller's membership, in one query. The node lookup by ID runs once, first.
const nodeOrRootQuery = preparedQuery((db: LakeDb, _dialect, p: (name: 'id' | 'userId') => string) =>
  db
    .selectFrom('projects as p')
    .innerJoin('namespaces as ns', 'ns.id', 'p.namespace_id')
    .leftJoin('namespace_members as m', (j) => j.onRef('m.namespace_id', '=', 'ns.id').on('m.user_id', '=', p('userId')))
    .leftJoin('nodes as nd', (j) => j.onRef('nd.project_id', '=', 'p.id').on('nd.id', '=', p('id')).on('nd.deleted_at', 'is', null))
    .selectAll('p')
    .select(['ns.slug as namespaceSlug', 'm.role as memberRole'])
    .select(prefixedNodeColumns('nd'))
    .where('p.id', '=', (eb) =>
      eb.fn.coalesce(
        eb.selectFrom('nodes').select('project_id').where('id', '=', p('id')).where('deleted_at', 'is', null),
        sql<string>`${p('id')}`,
      ),
    )
    .where('p.deleted_at', 'is', null)
    .where('ns.deleted_at', 'is', null)
    .$castTo<ProjectsTable & { namespaceSlug: string; memberRole: string | null } & PrefixedNode>(),
);
