import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../core/context.js';
import { AppError } from '../../core/errors.js';
import { pageEnvelope, PageQuery, toPage } from '../../core/pagination.js';
import { currentUser } from '../auth.js';
import type { LakeDb } from '../db.js';
import { countLiveAssets } from '../nodes/membership.js';
import { ensureAllowed } from '../policies.js';
import { checkMetadata, errors, NamespaceParams, SuccessBody } from '../schemas.js';
import { resolveNamespace } from '../scope.js';
import { presentMember, presentNamespace } from './present.js';
import * as repo from './repo.js';
import {
  CreateNamespace,
  MemberBody,
  MemberList,
  MemberParams,
  NamespaceBody,
  NamespaceDetailBody,
  NamespaceList,
  PutMember,
  UpdateNamespace,
} from './schemas.js';

const tags = ['DreamLake: namespaces'];

export const namespaceRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, { ctx }) => {
  const db = ctx.database.db as LakeDb;

  app.get('/auth/me', {
    schema: {
      tags,
      summary: 'The signed-in user and their personal namespace',
      response: {
        200: Type.Object({
          id: Type.String(),
          sub: Type.String({ description: "The token's subject" }),
          username: Type.String(),
          createdAt: Type.String({ description: 'When the user was first seen' }),
          namespace: Type.Union([NamespaceBody, Type.Null()]),
        }),
      },
    },
  }, async (request) => {
    const user = currentUser(request);
    // No personal namespace (renamed or deleted) is a null; a database failure is still an error.
    const personal = await resolveNamespace(db, user.id, user.username).catch((err: unknown) => {
      if (err instanceof AppError && err.status === 404) return null;
      throw err;
    });
    return {
      id: user.id,
      sub: user.subject,
      username: user.username,
      createdAt: user.createdAt,
      namespace: personal && personal.namespace.kind === 'user' ? presentNamespace(personal.namespace, personal.role) : null,
    };
  });

  app.post('/namespaces', {
    schema: { tags, summary: 'Create an organisation namespace (the caller becomes owner)', body: CreateNamespace, response: { 201: NamespaceBody, ...errors(400, 401, 409) } },
  }, async (request, reply) => {
    checkMetadata(request.body.metadata);
    const row = await repo.createNamespace(db, currentUser(request).id, request.body);
    return reply.status(201).send(presentNamespace(row, 'owner'));
  });

  app.get('/namespaces', {
    schema: { tags, summary: 'Namespaces the caller belongs to', querystring: PageQuery, response: { 200: NamespaceList, ...errors(400, 401) } },
  }, async (request) => {
    const page = toPage(request.query);
    const { rows, total } = await repo.listNamespaces(db, currentUser(request).id, page);
    return { namespaces: rows.map(({ role, total: _t, ...n }) => presentNamespace(n, role)), ...pageEnvelope(page, total) };
  });

  app.get('/namespaces/:slug', {
    schema: { tags, summary: 'A namespace with its project and asset counts', params: NamespaceParams, response: { 200: NamespaceDetailBody, ...errors(401, 404) } },
  }, async (request) => {
    const { namespace, role } = await resolveNamespace(db, currentUser(request).id, request.params.slug);
    const [projects, assets] = await Promise.all([repo.countLiveProjects(db, namespace.id), countLiveAssets(db, namespace.id)]);
    return { ...presentNamespace(namespace, role), projects, assets };
  });

  app.patch('/namespaces/:slug', {
    schema: { tags, summary: 'Change a namespace (admin)', params: NamespaceParams, body: UpdateNamespace, response: { 200: NamespaceBody, ...errors(400, 401, 403, 404, 409) } },
  }, async (request) => {
    checkMetadata(request.body.metadata);
    const { namespace, role } = await resolveNamespace(db, currentUser(request).id, request.params.slug);
    ensureAllowed(role, 'manage');
    return presentNamespace(await repo.updateNamespace(db, namespace, request.body), role);
  });

  app.delete('/namespaces/:slug', {
    schema: { tags, summary: 'Soft-delete an organisation namespace (owner)', params: NamespaceParams, response: { 200: SuccessBody, ...errors(400, 401, 403, 404) } },
  }, async (request) => {
    const { namespace, role } = await resolveNamespace(db, currentUser(request).id, request.params.slug);
    ensureAllowed(role, 'own');
    await repo.deleteNamespace(db, namespace);
    return { success: true as const };
  });

  app.get('/namespaces/:slug/members', {
    schema: { tags, summary: 'Members of a namespace', params: NamespaceParams, querystring: PageQuery, response: { 200: MemberList, ...errors(400, 401, 404) } },
  }, async (request) => {
    const { namespace } = await resolveNamespace(db, currentUser(request).id, request.params.slug);
    const page = toPage(request.query);
    const { rows, total } = await repo.listMembers(db, namespace.id, page);
    return { members: rows.map(presentMember), ...pageEnvelope(page, total) };
  });

  app.put('/namespaces/:slug/members/:username', {
    schema: { tags, summary: 'Add a member or change their role (admin; ownership needs owner)', params: MemberParams, body: PutMember, response: { 200: MemberBody, 201: MemberBody, ...errors(400, 401, 403, 404, 409) } },
  }, async (request, reply) => {
    const { namespace, role } = await resolveNamespace(db, currentUser(request).id, request.params.slug);
    ensureAllowed(role, 'manage');
    const result = await repo.putMember(db, namespace.id, role, request.params.username.toLowerCase(), request.body.role);
    return reply.status(result.created ? 201 : 200).send(presentMember(result.member));
  });

  app.delete('/namespaces/:slug/members/:username', {
    schema: { tags, summary: 'Remove a member (admin, or yourself)', params: MemberParams, response: { 200: SuccessBody, ...errors(401, 403, 404, 409) } },
  }, async (request) => {
    const user = currentUser(request);
    const { namespace, role } = await resolveNamespace(db, user.id, request.params.slug);
    await repo.removeMember(db, namespace.id, { id: user.id, role }, request.params.username.toLowerCase());
    return { success: true as const };
  });
};
