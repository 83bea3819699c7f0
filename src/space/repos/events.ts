import type { Static } from '@sinclair/typebox';
import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { dialectOf } from '../../core/db/dialect.js';
import { badRequest } from '../../core/errors.js';
import type { SpaceKysely } from '../db.js';
import { requireRow, scoped, timestampField, type Scope } from '../fields.js';
import { after, before, custom, equals, oneOf, type ListOptions } from '../filters.js';
import { EVENT_TYPES, EventCreate, EventCreateScoped, EventOut, EventPatch, type EventType } from '../schemas.js';
import { nowTimestamp, renderTimestamp } from '../time.js';
import { createDocument, presentDocument } from './documents.js';
import { applyList, type Repo } from './repo.js';
import { stampsOf } from './stamps.js';
import { JOINED_USER_COLUMNS, presentJoinedUser, upsertUser } from './users.js';

type TypeField = 'message' | 'tier' | 'subscribed_length' | 'amount' | 'viewer_count';
const TYPE_FIELDS: TypeField[] = ['message', 'tier', 'subscribed_length', 'amount', 'viewer_count'];

/** The fields each event type carries: required ones first, then optional ones (presented in this order). */
const BY_TYPE: Record<EventType, { required: TypeField[]; optional: TypeField[] }> = {
  plain: { required: ['message'], optional: [] },
  subscriber: { required: ['tier', 'subscribed_length'], optional: ['message'] },
  cheer: { required: ['amount'], optional: ['message'] },
  raid: { required: ['viewer_count'], optional: [] },
};

/** 400 for a field of another type, or a required field missing (create) or set to null (both). */
function checkTypeFields(type: EventType, body: Partial<Record<TypeField, unknown>>, creating: boolean) {
  const { required, optional } = BY_TYPE[type];
  for (const field of TYPE_FIELDS) {
    const value = body[field];
    if (value === undefined) {
      if (creating && required.includes(field)) throw badRequest(`Missing required field: ${field} (required for ${type} events).`);
    } else if (!required.includes(field) && !optional.includes(field)) {
      throw badRequest(`Field ${field} does not apply to ${type} events.`);
    } else if (value === null && required.includes(field)) {
      throw badRequest(`Field ${field} must not be null for ${type} events.`);
    }
  }
}

async function list(db: SpaceKysely, conditions: RawBuilder<SqlBool>[], options: ListOptions) {
  const query = db
    .selectFrom('space_events as e')
    .leftJoin('space_users as u', 'u.user_id', 'e.user_id')
    .leftJoin('space_documents as d', 'd.document_id', 'e.document_id')
    .selectAll('e')
    .select([
      ...JOINED_USER_COLUMNS,
      'd.document_data',
      'd.seal',
      'd.metadata',
      'd.created_at as document_created_at',
    ]);
  const rows = await applyList(query, 'e.event_id', conditions, options).execute();
  const stamps = await stampsOf(db, rows.map((r) => r.document_id));
  return rows.map((row): Static<typeof EventOut> => {
    const event: Static<typeof EventOut> = {
      event_id: row.event_id,
      document_id: row.document_id,
      document:
        row.document_id === null
          ? null
          : presentDocument(
              {
                document_id: row.document_id,
                document_data: row.document_data as string,
                seal: row.seal as number,
                metadata: row.metadata,
                created_at: row.document_created_at as string,
              },
              stamps,
            ),
      user_id: row.user_id,
      user:
        row.user_id === null
          ? null
          : presentJoinedUser(row.user_id, row),
      user_name: row.user_name,
      occurred_at: renderTimestamp(row.occurred_at),
      created_at: renderTimestamp(row.created_at),
      event_type: row.event_type,
    };
    const fields = BY_TYPE[row.event_type as EventType] ?? { required: [], optional: [] };
    for (const field of [...fields.required, ...fields.optional]) {
      const value = row[field];
      (event as Record<string, unknown>)[field] = field === 'message' || value === null ? value : Number(value);
    }
    return event;
  });
}

/**
 * One event with, optionally, its user (upserted by twitch_id) and its document with stamps, all in the
 * caller's transaction: the implicit objects are written first, the explicit references checked after,
 * and any failure rolls everything back.
 */
async function create(trx: SpaceKysely, body: Static<typeof EventCreate>, scope: Scope | undefined) {
  const type = body.event_type as EventType;
  if (body.user !== undefined && body.user_id !== undefined) throw badRequest('Give user_id or user, not both.');
  if (body.user !== undefined && scope) throw badRequest('Field user cannot be given here: the path names the user.');
  if (body.document !== undefined && body.document_id !== undefined) throw badRequest('Give document_id or document, not both.');
  checkTypeFields(type, body, true);
  const occurredAt = timestampField('occurred_at', body.occurred_at);

  let userId = scoped(body, 'user_id', scope) ?? null;
  let userName = body.user_name;
  if (body.user !== undefined) {
    userId = await upsertUser(trx, body.user);
    if (userName === undefined) userName = body.user.name;
  }
  const documentId = body.document !== undefined ? await createDocument(trx, body.document) : (body.document_id ?? null);

  if (body.user === undefined && userId !== null) {
    // Locked against a concurrent delete of the user until this event is written (see requireRow).
    const user = await trx
      .selectFrom('space_users')
      .select('name')
      .where('user_id', '=', userId)
      .$if(dialectOf(trx) === 'postgres', (q) => q.forKeyShare())
      .executeTakeFirst();
    if (!user) throw badRequest(`User ${userId} does not exist.`);
    if (userName === undefined) userName = user.name;
  }
  if (body.document === undefined && documentId !== null) {
    await requireRow(trx, 'space_documents', 'document_id', documentId, 'Document');
  }

  const row = await trx
    .insertInto('space_events')
    .values({
      event_type: type,
      user_id: userId,
      user_name: userName ?? null,
      occurred_at: occurredAt,
      created_at: nowTimestamp(),
      document_id: documentId,
      message: body.message ?? null,
      tier: body.tier ?? null,
      subscribed_length: body.subscribed_length ?? null,
      amount: body.amount ?? null,
      viewer_count: body.viewer_count ?? null,
    })
    .returning('event_id')
    .executeTakeFirstOrThrow();
  return row.event_id;
}

async function patch(trx: SpaceKysely, id: number, body: Static<typeof EventPatch>) {
  const current = await trx.selectFrom('space_events').select('event_type').where('event_id', '=', id).executeTakeFirstOrThrow();
  checkTypeFields(current.event_type as EventType, body, false);
  const { occurred_at: occurredAt, ...changes } = body;
  if (changes.user_id != null) await requireRow(trx, 'space_users', 'user_id', changes.user_id, 'User');
  if (changes.document_id != null) await requireRow(trx, 'space_documents', 'document_id', changes.document_id, 'Document');
  const set = { ...changes, ...(occurredAt !== undefined ? { occurred_at: timestampField('occurred_at', occurredAt) } : {}) };
  if (Object.keys(set).length === 0) return;
  await trx.updateTable('space_events').set(set).where('event_id', '=', id).execute();
}

export const events: Repo = {
  alias: 'e',
  filters: {
    event_id: equals('e.event_id'),
    event_type: oneOf('e.event_type', EVENT_TYPES),
    user_id: equals('e.user_id'),
    user_name: equals('e.user_name', 'string'),
    document_id: equals('e.document_id'),
    document_seal: custom('integer', (v) => sql<SqlBool>`d.seal = ${v}`),
    occurred_after: after('e.occurred_at'),
    occurred_before: before('e.occurred_at'),
    created_after: after('e.created_at'),
    created_before: before('e.created_at'),
  },
  readOnly: ['event_id', 'event_type', 'created_at', 'user', 'document'],
  schemas: { out: EventOut, create: EventCreate, createScoped: EventCreateScoped, patch: EventPatch },
  list,
  create,
  patch,
  async remove(trx, id) {
    // The event's document stays: documents stand on their own (another event may use it too).
    await trx.deleteFrom('space_events').where('event_id', '=', id).execute();
  },
};
