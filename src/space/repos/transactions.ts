import type { Static } from '@sinclair/typebox';
import type { RawBuilder, SqlBool } from 'kysely';
import { badRequest } from '../../core/errors.js';
import type { SpaceKysely } from '../db.js';
import { requireRow, scoped } from '../fields.js';
import { after, before, equals, type ListOptions } from '../filters.js';
import { TransactionCreate, TransactionCreateScoped, TransactionOut } from '../schemas.js';
import { nowTimestamp, renderTimestamp } from '../time.js';
import { applyList, type Repo } from './repo.js';
import { JOINED_USER_COLUMNS, presentJoinedUser } from './users.js';

async function list(db: SpaceKysely, conditions: RawBuilder<SqlBool>[], options: ListOptions) {
  const query = db
    .selectFrom('space_transactions as t')
    .innerJoin('space_users as u', 'u.user_id', 't.user_id')
    .select([
      't.transaction_id',
      't.user_id',
      't.amount',
      't.description',
      't.reference',
      't.created_at',
      ...JOINED_USER_COLUMNS,
    ]);
  const rows = await applyList(query, 't.transaction_id', conditions, options).execute();
  return rows.map(
    (row): Static<typeof TransactionOut> => ({
      transaction_id: row.transaction_id,
      user_id: row.user_id,
      user: presentJoinedUser(row.user_id, row),
      amount: Number(row.amount),
      description: row.description,
      reference: row.reference,
      created_at: renderTimestamp(row.created_at),
    }),
  );
}

/** Transactions are immutable: no patch, no remove (405), and they only go away with their user. */
export const transactions: Repo = {
  alias: 't',
  filters: {
    transaction_id: equals('t.transaction_id'),
    user_id: equals('t.user_id'),
    description: equals('t.description', 'string'),
    reference: equals('t.reference', 'string'),
    created_after: after('t.created_at'),
    created_before: before('t.created_at'),
  },
  readOnly: ['transaction_id', 'user', 'created_at'],
  schemas: { out: TransactionOut, create: TransactionCreate, createScoped: TransactionCreateScoped },
  list,
  async create(trx, body: Static<typeof TransactionCreateScoped>, scope) {
    const userId = scoped(body, 'user_id', scope);
    if (userId === undefined) throw badRequest('Missing required field: user_id.');
    if (!scope) await requireRow(trx, 'space_users', 'user_id', userId, 'User');
    const row = await trx
      .insertInto('space_transactions')
      .values({
        user_id: userId,
        amount: body.amount,
        description: body.description,
        reference: body.reference ?? null,
        created_at: nowTimestamp(),
      })
      .returning('transaction_id')
      .executeTakeFirstOrThrow();
    return row.transaction_id;
  },
};
