import type { FastifyRequest } from 'fastify';
import { currentUser } from '../auth.js';
import type { LakeDb, ProjectsTable } from '../db.js';
import { ensureAllowed, type Action } from '../policies.js';
import { resolveProject } from '../scope.js';

/** The live project named by the route, checked for the caller (404 for outsiders, 403 when `action` is not allowed). */
export async function projectFor(db: LakeDb, request: FastifyRequest, params: { slug: string; projectSlug: string }, action?: Action): Promise<ProjectsTable> {
  const { project, role } = await resolveProject(db, currentUser(request).id, params.slug, params.projectSlug);
  if (action) ensureAllowed(role, action);
  return project;
}
