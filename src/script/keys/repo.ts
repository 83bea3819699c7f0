import { generateApiKey, hashApiKey } from '../../core/auth/api-keys.js';
import { badRequest } from '../../core/errors.js';
import { nowIso } from '../../core/time.js';
import { writeTransaction, type ScriptDb } from '../db.js';

/** An API key as the server knows it: never its secret, only what it may do. */
export interface ScriptKey {
  id: number;
  name: string | null;
  /** The first characters of the secret, so that people can tell their keys apart. */
  prefix: string;
  /** Project IDs the key is limited to, or null for every project (and documents outside projects). */
  projects: number[] | null;
  readOnly: boolean;
  admin: boolean;
  createdAt: string;
}

export interface NewKey {
  name?: string | null;
  projects?: number[] | null;
  readOnly?: boolean;
  admin?: boolean;
}

interface KeyRow {
  id: number;
  name: string | null;
  prefix: string;
  projects: string | null;
  read_only: number;
  admin: number;
  created_at: string;
}

function toKey(row: KeyRow): ScriptKey {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    projects: row.projects === null ? null : (JSON.parse(row.projects) as number[]),
    readOnly: row.read_only === 1,
    admin: row.admin === 1,
    createdAt: row.created_at,
  };
}

const KEY_COLUMNS = ['id', 'name', 'prefix', 'projects', 'read_only', 'admin', 'created_at'] as const;

/** Stores a new key and returns it with its secret, which is not kept and cannot be shown again. */
export async function createKey(db: ScriptDb, input: NewKey): Promise<{ key: ScriptKey; secret: string }> {
  const projects = input.projects ? [...new Set(input.projects)].sort((a, b) => a - b) : null;
  if (input.admin && (projects || input.readOnly)) {
    // An admin key can mint any key, so limiting it would only be decoration.
    throw badRequest('An admin key sees every project and may write: drop projects/readOnly or admin.', 'invalid_request');
  }
  if (projects && projects.length === 0) throw badRequest('projects must name at least one project.', 'invalid_request');
  const secret = generateApiKey('ds');
  const row = await writeTransaction(db, async (trx) => {
    if (projects) {
      const live = await trx
        .selectFrom('script_projects')
        .select('id')
        .where('id', 'in', projects)
        .where('deleted_at', 'is', null)
        .execute();
      const found = new Set(live.map((p) => p.id));
      const unknown = projects.filter((p) => !found.has(p));
      if (unknown.length) throw badRequest(`Unknown projects: ${unknown.join(', ')}.`, 'invalid_request');
    }
    return trx
      .insertInto('script_keys')
      .values({
        name: input.name ?? null,
        prefix: secret.slice(0, 10),
        hash: hashApiKey(secret),
        projects: projects ? JSON.stringify(projects) : null,
        read_only: input.readOnly ? 1 : 0,
        admin: input.admin ? 1 : 0,
        created_at: nowIso(),
      })
      .returning(KEY_COLUMNS)
      .executeTakeFirstOrThrow();
  });
  return { key: toKey(row), secret };
}

/** The live key holding this secret: looked up on every request, so a revocation counts at once everywhere. */
export async function findKeyBySecret(db: ScriptDb, secret: string): Promise<ScriptKey | null> {
  const row = await db
    .selectFrom('script_keys')
    .select(KEY_COLUMNS)
    .where('hash', '=', hashApiKey(secret))
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return row ? toKey(row) : null;
}

/** Whether key `id` is still live: a feed opened with it looks again each time it wakes, so a revocation ends it. */
export async function isKeyLive(db: ScriptDb, id: number): Promise<boolean> {
  const row = await db.selectFrom('script_keys').select('id').where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
  return row !== undefined;
}

/** Live keys with an ID above `after`, ascending; `limit` rows at most. */
export async function listKeys(db: ScriptDb, after: number, limit: number): Promise<ScriptKey[]> {
  const rows = await db
    .selectFrom('script_keys')
    .select(KEY_COLUMNS)
    .where('revoked_at', 'is', null)
    .where('id', '>', after)
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map(toKey);
}

/** Revokes a live key; false when there is none with that ID. */
export async function revokeKey(db: ScriptDb, id: number): Promise<boolean> {
  const result = await writeTransaction(db, (trx) =>
    trx
      .updateTable('script_keys')
      .set({ revoked_at: nowIso() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst(),
  );
  return result.numUpdatedRows > 0n;
}
