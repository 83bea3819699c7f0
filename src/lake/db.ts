import type { Kysely } from 'kysely';

export interface UsersTable {
  id: string;
  subject: string;
  username: string;
  created_at: string;
  updated_at: string;
}

export interface NamespacesTable {
  id: string;
  slug: string;
  name: string;
  kind: 'user' | 'org';
  metadata: string | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

export interface NamespaceMembersTable {
  namespace_id: string;
  user_id: string;
  role: string;
  created_at: string;
  updated_at: string;
}

/** Columns shared by projects, datasets and collections. */
interface DescribedRow {
  id: string;
  name: string;
  description: string | null;
  tags: string;
  metadata: string | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

export interface ProjectsTable extends DescribedRow {
  namespace_id: string;
  slug: string;
  /** `private` (members only) or `public` (readable by every signed-in user); defaults to private on insert. */
  visibility?: string;
  /** Live collections and datasets, kept by triggers (migration 005); never written by the app. */
  collection_count?: number;
  dataset_count?: number;
}

export interface DatasetsTable extends DescribedRow {
  project_id: string;
}

export interface CollectionsTable extends DescribedRow {
  project_id: string;
  dataset_id: string | null;
  next_position: number;
}

export interface CollectionMembersTable {
  collection_id: string;
  node_id: string;
  position: number;
}

export interface NodesTable {
  id: string;
  project_id: string;
  parent_id: string | null;
  name: string;
  path: string;
  kind: string;
  leaf: number;
  tags: string;
  metadata: string | null;
  size: number | null;
  content_type: string | null;
  sha256: string | null;
  description: string | null;
  status: string | null;
  /** Live children (inner nodes); optional on insert, where it defaults to 0. */
  child_count?: number;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

export interface NodeTreesTable {
  project_id: string;
  version: number;
  root_count: number;
}

export interface LakeTables {
  users: UsersTable;
  namespaces: NamespacesTable;
  namespace_members: NamespaceMembersTable;
  projects: ProjectsTable;
  datasets: DatasetsTable;
  collections: CollectionsTable;
  collection_members: CollectionMembersTable;
  nodes: NodesTable;
  node_trees: NodeTreesTable;
}

export type LakeDb = Kysely<LakeTables>;
