import type { Generated, Kysely } from 'kysely';

/** The Dreamspace tables (migration 004-space). Timestamps are UTC text, see time.ts. */
export interface SpaceUsersTable {
  user_id: Generated<number>;
  twitch_id: string | null;
  name: string;
  preferences: string | null;
  created_at: string;
}

export interface SpaceTransactionsTable {
  transaction_id: Generated<number>;
  user_id: number;
  amount: number;
  description: string;
  reference: string | null;
  created_at: string;
}

export interface SpaceSpecimensTable {
  specimen_id: Generated<number>;
  owner_id: number;
  born_at: string;
  forgotten_at: string | null;
}

export interface SpaceDocumentsTable {
  document_id: Generated<number>;
  document_data: string;
  seal: number;
  metadata: string | null;
  created_at: string;
}

export interface SpaceStampsTable {
  stamp_id: Generated<number>;
  document_id: number;
  stamp_type: string;
  pos_x: number;
  pos_y: number;
  rotation: number;
}

export interface SpaceEventsTable {
  event_id: Generated<number>;
  event_type: string;
  user_id: number | null;
  user_name: string | null;
  occurred_at: string;
  created_at: string;
  document_id: number | null;
  message: string | null;
  tier: number | null;
  subscribed_length: number | null;
  amount: number | null;
  viewer_count: number | null;
}

export interface SpaceDb {
  space_users: SpaceUsersTable;
  space_transactions: SpaceTransactionsTable;
  space_specimens: SpaceSpecimensTable;
  space_documents: SpaceDocumentsTable;
  space_stamps: SpaceStampsTable;
  space_events: SpaceEventsTable;
}

export type SpaceKysely = Kysely<SpaceDb>;
