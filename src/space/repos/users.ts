import type { Static } from '@sinclair/typebox';
import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { uniqueOr } from '../../core/db/errors.js';
import { badRequest } from '../../core/errors.js';
import type { SpaceKysely } from '../db.js';
import { after, before, equals, type ListOptions } from '../filters.js';
import { UserCreate, UserFullOut, UserOut, UserPatch } from '../schemas.js';
import { nowTimestamp, renderTimestamp } from '../time.js';
import { applyList, type Repo } from './repo.js';
import { currentSpecimenOf } from './current-specimen.js';

type UserRow = { user_id: number; twitch_id: string | null; name: string; preferences: string | null; created_at: string };

/** The short form of a user, as nested in other objects (no specimen, inventory or wallet). */
export function presentUser(row: UserRow): Static<typeof UserOut> {
  return {
    user_id: row.user_id,
    twitch_id: row.twitch_id,
    name: row.name,
    preferences: row.preferences,
    created_at: renderTimestamp(row.created_at),
  };
}

/** The user columns other models' list queries join in (as `u`); present them with presentJoinedUser. */
export const JOINED_USER_COLUMNS = ['u.twitch_id', 'u.name', 'u.preferences', 'u.created_at as user_created_at'] as const;

type JoinedUserRow = { twitch_id: string | null; name: string | null; preferences: string | null; user_created_at: string | null };

export function presentJoinedUser(userId: number, row: JoinedUserRow): Static<typeof UserOut> {
  return presentUser({
    user_id: userId,
    twitch_id: row.twitch_id,
    name: row.name as string,
    preferences: row.preferences,
    created_at: row.user_created_at as string,
  });
}

/** Creates the user, or updates the one with this twitch_id (the documented `POST /users` quirk). */
export async function upsertUser(trx: SpaceKysely, body: Static<typeof UserCreate>): Promise<number> {
  const update = { name: body.name, ...(body.preferences !== undefined ? { preferences: body.preferences } : {}) };
  const row = await trx
    .insertInto('space_users')
    .values({ twitch_id: body.twitch_id, name: body.name, preferences: body.preferences ?? null, created_at: nowTimestamp() })
    .onConflict((oc) => oc.column('twitch_id').doUpdateSet(update))
    .returning('user_id')
    .executeTakeFirstOrThrow();
  return row.user_id;
}

async function list(db: SpaceKysely, conditions: RawBuilder<SqlBool>[], options: ListOptions) {
  const query = db
    .selectFrom('space_users as u')
    .leftJoin('space_specimens as s', (join) => join.on(sql<SqlBool>`s.specimen_id = ${currentSpecimenOf(sql.ref('u.user_id'))}`))
    .select([
      'u.user_id',
      'u.twitch_id',
      'u.name',
      'u.preferences',
      'u.created_at',
      's.specimen_id',
      's.born_at',
      's.forgotten_at',
      sql<number | string | null>`(select sum(t.amount) from space_transactions t where t.user_id = u.user_id)`.as('wallet'),
    ]);
  const rows = await applyList(query, 'u.user_id', conditions, options).execute();
  return rows.map(
    (row): Static<typeof UserFullOut> => ({
      ...presentUser(row),
      specimen:
        row.specimen_id === null
          ? null
          : {
              specimen_id: row.specimen_id,
              owner_id: row.user_id,
              born_at: renderTimestamp(row.born_at as string),
              forgotten_at: renderTimestamp(row.forgotten_at),
            },
      inventory: [],
      wallet: row.wallet === null ? null : Number(row.wallet),
    }),
  );
}

async function patch(trx: SpaceKysely, id: number, body: Static<typeof UserPatch>) {
  if (typeof body.twitch_id === 'string') {
    const other = await trx
      .selectFrom('space_users')
      .select('user_id')
      .where('twitch_id', '=', body.twitch_id)
      .where('user_id', '<>', id)
      .executeTakeFirst();
    if (other) throw badRequest(`twitch_id ${body.twitch_id} already belongs to user ${other.user_id}.`);
  }
  if (Object.keys(body).length === 0) return;
  // The check above answers the usual case; a concurrent claim of the same twitch_id is the same 400.
  await uniqueOr(
    () => trx.updateTable('space_users').set(body).where('user_id', '=', id).execute(),
    () => badRequest(`twitch_id ${String(body.twitch_id)} already belongs to another user.`),
  );
}

export const users: Repo = {
  alias: 'u',
  filters: {
    user_id: equals('u.user_id'),
    twitch_id: equals('u.twitch_id', 'string'),
    name: equals('u.name', 'string'),
    created_after: after('u.created_at'),
    created_before: before('u.created_at'),
  },
  readOnly: ['user_id', 'created_at', 'specimen', 'inventory', 'wallet'],
  exclusiveFields: ['twitch_id'],
  schemas: { out: UserFullOut, create: UserCreate, createScoped: UserCreate, patch: UserPatch },
  list,
  create: (trx, body: Static<typeof UserCreate>) => upsertUser(trx, body),
  patch,
  async remove(trx, id) {
    // Transactions and specimens go with the user (ON DELETE CASCADE); events keep their user_name.
    await trx.deleteFrom('space_users').where('user_id', '=', id).execute();
  },
};
