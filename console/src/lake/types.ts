import type { components, paths } from '../../../client/index.js';

type Json<T> = T extends { content: { 'application/json': infer B } } ? B : never;
type Ok<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends { responses: { 200: infer R } } ? Json<R> : never;

export type Namespace = Ok<'/namespaces/{slug}', 'get'>;
export type Member = Ok<'/namespaces/{slug}/members', 'get'>['members'][number];
export type Project = Ok<'/namespaces/{slug}/projects/{projectSlug}', 'get'>;
export type LakeNode = Ok<'/namespaces/{slug}/projects/{projectSlug}/nodes/{id}', 'get'>;
export type Dataset = Ok<'/namespaces/{slug}/projects/{projectSlug}/datasets/{name}', 'get'>;
export type Collection = Ok<'/namespaces/{slug}/projects/{projectSlug}/collections/{name}', 'get'>;
export type Episode = Ok<'/namespaces/{slug}/projects/{projectSlug}/episodes/{name}', 'get'>;
export type Components = components;

export type Role = 'read' | 'write' | 'admin' | 'owner';
const RANK: Record<string, number> = { read: 1, write: 2, admin: 3, owner: 4 };
export const can = (role: string | undefined, needed: Role) => (RANK[role ?? ''] ?? 0) >= RANK[needed];
export const ROLES: Role[] = ['read', 'write', 'admin', 'owner'];
