import type { Static } from '@sinclair/typebox';
import type { RawBuilder, SqlBool } from 'kysely';
import { badRequest } from '../../core/errors.js';
import type { SpaceKysely } from '../db.js';
import { nullableTimestampField, requireRow, scoped, timestampField } from '../fields.js';
import { after, before, equals, isSet, type ListOptions } from '../filters.js';
import { SpecimenCreate, SpecimenOut, SpecimenPatch } from '../schemas.js';
import { nowTimestamp, renderTimestamp } from '../time.js';
import { applyList, type Repo } from './repo.js';
import { JOINED_USER_COLUMNS, presentJoinedUser, upsertUser } from './users.js';

async function list(db: SpaceKysely, conditions: RawBuilder<SqlBool>[], options: ListOptions) {
  const query = db
    .selectFrom('space_specimens as s')
    .innerJoin('space_users as u', 'u.user_id', 's.owner_id')
    .select([
      's.specimen_id',
      's.owner_id',
      's.born_at',
      's.forgotten_at',
      ...JOINED_USER_COLUMNS,
    ]);
  const rows = await applyList(query, 's.specimen_id', conditions, options).execute();
  return rows.map(
    (row): Static<typeof SpecimenOut> => ({
      specimen_id: row.specimen_id,
      owner_id: row.owner_id,
      owner: presentJoinedUser(row.owner_id, row),
      born_at: renderTimestamp(row.born_at),
      forgotten_at: renderTimestamp(row.forgotten_at),
    }),
  );
}

async function create(trx: SpaceKysely, body: Static<typeof SpecimenCreate>, scope: { column: string; id: number } | undefined) {
  if (body.owner !== undefined && body.owner_id !== undefined) throw badRequest('Give owner_id or owner, not both.');
  if (body.owner !== undefined && scope) throw badRequest('Field owner cannot be given here: the path names the owner.');
  const bornAt = body.born_at === undefined ? nowTimestamp() : timestampField('born_at', body.born_at);
  const forgottenAt = body.forgotten_at === undefined ? null : nullableTimestampField('forgotten_at', body.forgotten_at);

  let ownerId = scoped(body, 'owner_id', scope);
  if (body.owner !== undefined) ownerId = await upsertUser(trx, body.owner);
  else if (ownerId === undefined) throw badRequest('Missing required field: owner_id (or an owner object).');
  else if (!scope) await requireRow(trx, 'space_users', 'user_id', ownerId, 'User');

  const row = await trx
    .insertInto('space_specimens')
    .values({ owner_id: ownerId, born_at: bornAt, forgotten_at: forgottenAt })
    .returning('specimen_id')
    .executeTakeFirstOrThrow();
  return row.specimen_id;
}

async function patch(trx: SpaceKysely, id: number, body: Static<typeof SpecimenPatch>) {
  const changes: { owner_id?: number; forgotten_at?: string | null } = {};
  if (body.owner_id !== undefined) {
    await requireRow(trx, 'space_users', 'user_id', body.owner_id, 'User');
    changes.owner_id = body.owner_id;
  }
  if (body.forgotten_at !== undefined) changes.forgotten_at = nullableTimestampField('forgotten_at', body.forgotten_at);
  if (Object.keys(changes).length === 0) return;
  await trx.updateTable('space_specimens').set(changes).where('specimen_id', '=', id).execute();
}

export const specimens: Repo = {
  alias: 's',
  filters: {
    specimen_id: equals('s.specimen_id'),
    owner_id: equals('s.owner_id'),
    born_after: after('s.born_at'),
    born_before: before('s.born_at'),
    forgotten: isSet('s.forgotten_at'),
    forgotten_after: after('s.forgotten_at'),
    forgotten_before: before('s.forgotten_at'),
  },
  readOnly: ['specimen_id', 'born_at', 'owner'],
  schemas: { out: SpecimenOut, create: SpecimenCreate, createScoped: SpecimenCreate, patch: SpecimenPatch },
  list,
  create,
  patch,
  async remove(trx, id) {
    await trx.deleteFrom('space_specimens').where('specimen_id', '=', id).execute();
  },
};
