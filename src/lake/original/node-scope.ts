import type { FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.js';
import { currentUser } from '../auth.js';
import type { LakeDb, NodesTable, ProjectsTable } from '../db.js';
import { nodeNotFound } from '../nodes/tree.js';
import { ensureAllowed, type Action } from '../policies.js';
import { resolveProject } from '../scope.js';

// The original clients name a node by its ID alone (`/nodes/{id}`), and a project's ID works as the ID of its
// root node. The flat routes find the node's project from the ID, then check the caller exactly as the
// project-scoped routes do (resolveProject: membership or a public project), so tenancy lives in one place.

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
  const owner = await ownerOf(db, id);
  if (!owner) throw nodeNotFound();
  if ((params.namespace !== undefined && params.namespace !== owner.namespaceSlug) || (params.project !== undefined && params.project !== owner.projectSlug)) {
    throw nodeNotFound();
  }
  let scope;
  try {
    scope = await resolveProject(db, currentUser(request).id, owner.namespaceSlug, owner.projectSlug);
  } catch (err) {
    if (err instanceof AppError && err.status === 404) throw nodeNotFound();
    throw err;
  }
  // A slug may have been reused by a newer project since: the node must belong to the project resolved.
  if (scope.project.id !== owner.projectId) throw nodeNotFound();
  if (action) ensureAllowed(scope.role, action);
  return { project: scope.project, namespaceSlug: owner.namespaceSlug, node: owner.node };
}

interface Owner {
  projectId: string;
  projectSlug: string;
  namespaceSlug: string;
  node: NodesTable | null;
}

async function ownerOf(db: LakeDb, id: string): Promise<Owner | undefined> {
  const node = await db.selectFrom('nodes').selectAll().where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
  const projectId = node ? node.project_id : id;
  const project = await db
    .selectFrom('projects as p')
    .innerJoin('namespaces as n', 'n.id', 'p.namespace_id')
    .select(['p.id', 'p.slug', 'n.slug as namespaceSlug'])
    .where('p.id', '=', projectId)
    .where('p.deleted_at', 'is', null)
    .where('n.deleted_at', 'is', null)
    .executeTakeFirst();
  if (!project) return undefined;
  return { projectId: project.id, projectSlug: project.slug, namespaceSlug: project.namespaceSlug, node: node ?? null };
}
