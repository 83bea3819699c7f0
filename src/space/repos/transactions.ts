import type { Static } from '@sinclair/typebox';
import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { dialectOf } from '../../core/db/dialect.js';
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

/** The most a wallet (the sum of a user's transaction amounts) may hold either way: the JSON-safe integers. */
export const MAX_WALLET = Number.MAX_SAFE_INTEGER;

/**
 * Inserts a transaction of a user known to exist, unless it would take the user's wallet beyond
 * ±MAX_WALLET (a 400, nothing stored): a wallet is answered as a JSON number, exact only up to 2^53 - 1
 * (and SQLite's sum() fails past 2^63). Every transaction is written here, so none gets past the check.
 *
 * Race-free: on PostgreSQL the user's row is locked (`for no key update`: transactions of one user queue
 * behind each other, while reads and other users' writes go on), so no concurrent transaction can change
 * the sum between the check and the insert; on SQLite the check is part of the insert itself (one
 * statement, which holds the database's one write lock from its start).
 */
export async function insertTransaction(
  trx: SpaceKysely,
  userId: number,
  body: { amount: number; description: string; reference?: string | null },
): Promise<number> {
  if (dialectOf(trx) === 'postgres') await sql`select 1 from space_users where user_id = ${userId} for no key update`.execute(trx);
  const walletAfter = sql`coalesce((select sum(w.amount) from space_transactions w where w.user_id = ${userId}), 0) + cast(${body.amount} as bigint)`;
  const { rows } = await sql<{ transaction_id: number | string }>`insert into space_transactions (user_id, amount, description, reference, created_at)
    select cast(${userId} as bigint), cast(${body.amount} as bigint), cast(${body.description} as text), cast(${body.reference ?? null} as text), cast(${nowTimestamp()} as text)
    where ${walletAfter} between ${-MAX_WALLET} and ${MAX_WALLET}
    returning transaction_id`.execute(trx);
  if (rows.length > 0) return Number(rows[0].transaction_id);
  const { rows: held } = await sql<{ wallet: number | string | null }>`select sum(amount) as wallet from space_transactions where user_id = ${userId}`.execute(trx);
  const wallet = BigInt(String(held[0]?.wallet ?? 0));
  throw badRequest(
    `Amount ${body.amount} would take the wallet of user ${userId} to ${wallet + BigInt(body.amount)}, ` +
      `beyond ±${MAX_WALLET} (the wallet holds ${wallet}).`,
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
    return insertTransaction(trx, userId, body);
  },
};
