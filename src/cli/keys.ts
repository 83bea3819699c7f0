import type { Command } from 'commander';
import { createDatabase, type Database } from '../core/db/database.js';
import { migrateToLatest } from '../core/db/migrate.js';
import { scriptDb, type ScriptDb } from '../script/db.js';
import { createKey, listKeys, revokeKey, type ScriptKey } from '../script/keys/repo.js';
import { configFrom, withCommonOptions } from './common.js';

/** `dreamlake keys create|list|revoke`: Dreamscript API keys, straight on the database. */
export function registerKeys(program: Command) {
  const keys = program.command('keys').description('manage Dreamscript database API keys');

  withCommonOptions(keys.command('create').description('create an API key and print its secret (shown only this once)'))
    .option('--name <name>', 'a label for the key')
    .option('--projects <ids>', 'limit the key to these project IDs, comma-separated (e.g. 1,2)')
    .option('--read-only', 'the key may read but not write')
    .option('--admin', 'the key may also create and revoke keys over HTTP')
    .action(async (flags) =>
      withDatabase(flags, async (db) => {
        const projects = flags.projects === undefined ? null : parseIds(String(flags.projects));
        const { key, secret } = await createKey(db, { name: flags.name, projects, readOnly: flags.readOnly, admin: flags.admin });
        // The secret alone on stdout, so that `KEY=$(dreamlake keys create)` works; the rest on stderr.
        console.log(secret);
        console.error(`Created key ${key.id} (${describe(key)}). Store the secret now: it cannot be shown again.`);
      }),
    );

  withCommonOptions(keys.command('list').description('list live API keys (never their secrets)')).action(async (flags) =>
    withDatabase(flags, async (db) => {
      let page = await listKeys(db, 0, 1000);
      while (page.length > 0) {
        for (const key of page) console.log(`${key.id}\t${key.prefix}…\t${key.name ?? ''}\t${describe(key)}\t${key.createdAt}`);
        page = await listKeys(db, page[page.length - 1].id, 1000);
      }
    }),
  );

  withCommonOptions(keys.command('revoke <id>').description('revoke an API key at once')).action(async (id: string, flags) =>
    withDatabase(flags, async (db) => {
      const [keyId] = parseIds(id);
      if (!(await revokeKey(db, keyId))) throw new Error(`No live key ${keyId}.`);
      console.log(`Revoked key ${keyId}.`);
    }),
  );
}

async function withDatabase(flags: object, work: (db: ScriptDb) => Promise<void>): Promise<void> {
  const database: Database = createDatabase(configFrom(flags).databaseUrl);
  try {
    await migrateToLatest(database.db);
    await work(scriptDb(database));
  } finally {
    await database.close();
  }
}

function parseIds(text: string): number[] {
  const ids = text.split(',').map((part) => Number(part.trim()));
  if (ids.length === 0 || !ids.every((id) => Number.isSafeInteger(id) && id > 0)) {
    throw new Error(`Expected positive integer IDs separated by commas (got "${text}").`);
  }
  return ids;
}

function describe(key: ScriptKey): string {
  const scope = key.projects ? `projects ${key.projects.join(',')}` : 'all projects';
  return [scope, key.readOnly ? 'read-only' : 'read-write', ...(key.admin ? ['admin'] : [])].join(', ');
}
