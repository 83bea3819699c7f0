import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Migration } from 'kysely';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/core/config.js';
import { createDatabase } from '../../src/core/db/database.js';
import { migrateToLatest } from '../../src/core/db/migrate.js';
import { migrations } from '../../src/core/db/migrations/index.js';
import { scriptDb } from '../../src/script/db.js';
import { createKey } from '../../src/script/keys/repo.js';
import { TEST_JWT_SECRET } from '../helpers/app.js';
import { createTestSchema, PG_URL } from '../helpers/pg.js';
import { DIALECTS } from './helpers.js';

// Migration 008 turns the linear histories written before it into revision trees: the same data, then
// readable through the CouchDB endpoint with its _revisions, and in both changes feeds.

const upTo = (last: string) =>
  Object.fromEntries(Object.entries(migrations).filter(([name]) => name <= last)) as Record<string, Migration>;

describe.each(DIALECTS)('migration 008 on existing Dreamscript data (%s)', (dialect) => {
  it('gives every old revision its parent and every document its place in the feed', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dreamlake-mig-'));
    const schema = dialect === 'postgres' ? await createTestSchema() : undefined;
    const url = dialect === 'postgres' ? PG_URL! : join(dataDir, 'db.sqlite');
    const database = createDatabase(url, { schema });
    try {
      const db = database.db;
      await migrateToLatest(db, upTo('005-lake-collections'));
      // What the server stored before 008: a project, a document with three revisions, another with one.
      const now = new Date().toISOString();
      await db.insertInto('script_projects').values({ name: 'legacy', description: null, created_at: now, updated_at: now }).execute();
      const revs = ['1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', '2-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', '3-cccccccccccccccccccccccccccccccc'];
      await db
        .insertInto('script_documents')
        .values([
          { project_id: 1, title: 'v3', content: 'three', generation: 3, rev: revs[2], deleted: 0, created_at: now, updated_at: now },
          { project_id: 1, title: 'solo', content: null, generation: 1, rev: '1-dddddddddddddddddddddddddddddddd', deleted: 0, created_at: now, updated_at: now },
        ])
        .execute();
      await db
        .insertInto('script_revisions')
        .values([
          ...revs.map((rev, i) => ({ document_id: 1, generation: i + 1, rev, project_id: 1, title: `v${i + 1}`, content: i === 2 ? 'three' : null, deleted: 0, created_at: now })),
          { document_id: 2, generation: 1, rev: '1-dddddddddddddddddddddddddddddddd', project_id: 1, title: 'solo', content: null, deleted: 0, created_at: now },
        ])
        .execute();

      const config = loadConfig({ data: dataDir, database: url }, { DREAMLAKE_JWT_SECRET: TEST_JWT_SECRET, DREAMSCRIPT_RATE_LIMIT: '0' });
      const app = await buildApp(config, { database, logger: false }); // runs 008
      try {
        const { secret } = await createKey(scriptDb(database), { admin: true });
        const couch = (url: string) => app.inject({ method: 'GET', url: `/dreamscript/couch${url}`, headers: { 'x-api-key': secret } });
        const doc = (await couch('/legacy/1?revs=true')).json();
        expect(doc).toEqual({
          _id: '1',
          _rev: revs[2],
          title: 'v3',
          content: 'three',
          _revisions: { start: 3, ids: revs.map((r) => r.slice(2)).reverse() },
        });
        expect((await couch(`/legacy/1?rev=${revs[0]}`)).json()).toMatchObject({ title: 'v1' });
        const changes = (await couch('/legacy/_changes')).json();
        expect(changes.results.map((c: { id: string; seq: string }) => [c.id, c.seq])).toEqual([['1', '3'], ['2', '4']]);
        const rest = (await app.inject({ method: 'GET', url: '/dreamscript/changes', headers: { 'x-api-key': secret } })).json();
        expect(rest.results.map((c: { id: number; seq: number }) => [c.id, c.seq])).toEqual([[1, 3], [2, 4]]);
        // And the history goes on from there, through either API.
        const next = await app.inject({ method: 'PUT', url: '/dreamscript/couch/legacy/1', headers: { 'x-api-key': secret, 'content-type': 'application/json' }, payload: { _rev: revs[2], title: 'v4' } });
        expect(next.json().rev).toMatch(/^4-/);
      } finally {
        await app.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
