import { sql, type Expression } from 'kysely';
import { currentSpecimenOf } from './repos/current-specimen.js';
import { documents } from './repos/documents.js';
import { events } from './repos/events.js';
import type { Repo } from './repos/repo.js';
import { specimens } from './repos/specimens.js';
import { stamps } from './repos/stamps.js';
import { transactions } from './repos/transactions.js';
import { users } from './repos/users.js';

export type ModelName = 'users' | 'transactions' | 'specimens' | 'events' | 'documents' | 'stamps';

/**
 * A relation from one object to others. `many`: the target's `column` points back at the object
 * (`/users/4/transactions` lists transactions with user_id = 4). `one`: `resolve` finds the one target
 * ID from the object's ID as a scalar subquery, so that any chain of relations is one SQL expression.
 */
export type Relation =
  | { kind: 'many'; target: ModelName; column: string }
  | {
      kind: 'one';
      target: ModelName;
      resolve: (id: Expression<unknown>) => Expression<number | null>;
      missing: string;
      /** The target's column that points back at the object, when there is one (a user's specimen: owner_id). */
      backColumn?: string;
    };

export interface Model {
  name: ModelName;
  label: string;
  table: string;
  pk: string;
  relations: Record<string, Relation>;
  repo: Repo;
}

/** A `one` relation held in a column of the source table (e.g. an event's user_id). */
function column(table: string, pk: string, fk: string, target: ModelName, missing: string): Relation {
  return {
    kind: 'one',
    target,
    missing,
    resolve: (id) => sql<number | null>`(select ${sql.ref(fk)} from ${sql.table(table)} where ${sql.ref(pk)} = ${id})`,
  };
}

/** The six models and how they relate: the router walks any path through this table. */
export const MODELS: Record<ModelName, Model> = {
  users: {
    name: 'users',
    label: 'User',
    table: 'space_users',
    pk: 'user_id',
    repo: users,
    relations: {
      transactions: { kind: 'many', target: 'transactions', column: 'user_id' },
      specimens: { kind: 'many', target: 'specimens', column: 'owner_id' },
      events: { kind: 'many', target: 'events', column: 'user_id' },
      specimen: { kind: 'one', target: 'specimens', resolve: currentSpecimenOf, missing: 'has no current specimen', backColumn: 'owner_id' },
    },
  },
  transactions: {
    name: 'transactions',
    label: 'Transaction',
    table: 'space_transactions',
    pk: 'transaction_id',
    repo: transactions,
    relations: { user: column('space_transactions', 'transaction_id', 'user_id', 'users', 'has no user') },
  },
  specimens: {
    name: 'specimens',
    label: 'Specimen',
    table: 'space_specimens',
    pk: 'specimen_id',
    repo: specimens,
    relations: { owner: column('space_specimens', 'specimen_id', 'owner_id', 'users', 'has no owner') },
  },
  events: {
    name: 'events',
    label: 'Event',
    table: 'space_events',
    pk: 'event_id',
    repo: events,
    relations: {
      user: column('space_events', 'event_id', 'user_id', 'users', 'has no user'),
      document: column('space_events', 'event_id', 'document_id', 'documents', 'has no document'),
    },
  },
  documents: {
    name: 'documents',
    label: 'Document',
    table: 'space_documents',
    pk: 'document_id',
    repo: documents,
    relations: { stamps: { kind: 'many', target: 'stamps', column: 'document_id' } },
  },
  stamps: {
    name: 'stamps',
    label: 'Stamp',
    table: 'space_stamps',
    pk: 'stamp_id',
    repo: stamps,
    relations: { document: column('space_stamps', 'stamp_id', 'document_id', 'documents', 'has no document') },
  },
};

export function modelNamed(name: string): Model | undefined {
  return Object.hasOwn(MODELS, name) ? MODELS[name as ModelName] : undefined;
}

/**
 * A model directory by its name or its singular (`document` for `documents`): the API document itself lists
 * `/document/1/stamps` among its list endpoints, so the singular names the same directory at the top of a path.
 */
export function topModelNamed(name: string): Model | undefined {
  return modelNamed(name) ?? (name.length > 1 && !name.endsWith('s') ? modelNamed(`${name}s`) : undefined);
}
