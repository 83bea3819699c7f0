import type { FastifyRequest } from 'fastify';
import { currentUser } from '../auth.js';
import type { LakeDb, NodesTable, ProjectsTable } from '../db.js';
import { ensureAllowed, type Action } from '../policies.js';
import { resolveProject, resolveProjectNode } from '../scope.js';
import { nodeNotFound } from './tree.js';

/** The live project named by the route, checked for the caller (404 for outsiders, 403 when `action` is not allowed). */
export async function projectFor(db: LakeDb, request: FastifyRequest, params: { slug: string; projectSlug: string }, action?: Action): Promise<ProjectsTable> {
  const { project, role } = await resolveProject(db, currentUser(request).id, params.slug, params.projectSlug);
  if (action) ensureAllowed(role, action);
  return project;
}

/** projectFor and the project's live node named by the route's `id`, in one query (404 when there is none). */
export async function projectNodeFor(
  db: LakeDb,
  request: FastifyRequest,
  params: { slug: string; projectSlug: string; id: string },
): Promise<{ project: ProjectsTable; node: NodesTable }> {
  const { project, node } = await resolveProjectNode(db, currentUser(request).id, params.slug, params.projectSlug, params.id);
  if (!node) throw nodeNotFound();
  return { project, node };
}
