import { sql, type Expression } from 'kysely';

/** The ID of a user's current specimen: the latest born one that is not forgotten (null if none). */
export function currentSpecimenOf(userId: Expression<unknown>) {
  return sql<number | null>`(select cs.specimen_id from space_specimens cs
    where cs.owner_id = ${userId} and cs.forgotten_at is null
    order by cs.born_at desc, cs.specimen_id desc limit 1)`;
}
