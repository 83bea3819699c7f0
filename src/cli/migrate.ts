import type { Command } from 'commander';
import { createDatabase } from '../core/db/database.js';
import { migrateToLatest } from '../core/db/migrate.js';
import { configFrom, withCommonOptions } from './common.js';

export function registerMigrate(program: Command) {
  withCommonOptions(program.command('migrate').description('run pending database migrations and exit')).action(
    async (flags) => {
      const database = createDatabase(configFrom(flags).databaseUrl);
      try {
        const applied = await migrateToLatest(database.db);
        console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Database is up to date.');
      } finally {
        await database.close();
      }
    },
  );
}
