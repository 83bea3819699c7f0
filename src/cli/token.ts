import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadOrCreateSecret, normaliseUsername, signToken } from '../core/auth/jwt.js';
import { isPostgresUrl, type Config } from '../core/config.js';
import { createDatabase } from '../core/db/database.js';
import { describeDatabaseError } from '../core/startup-errors.js';
import { configFrom, withCommonOptions } from './common.js';

/** The form of a namespace slug, which a username becomes (the server refuses tokens whose username is not one). */
const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

export function registerToken(program: Command) {
  withCommonOptions(program.command('token <username>').description('print a DreamLake JWT for a user'))
    .option('--days <n>', 'days until the token expires', '30')
    .action(async (username: string, flags) => {
      const days = Number(flags.days);
      if (!Number.isInteger(days) || days < 1) throw new Error('--days must be a positive integer');
      const config = configFrom(flags);
      if (config.auth.jwksUrl) throw new Error('This server verifies tokens with a JWKS URL: get tokens from that identity provider.');
      const slug = normaliseUsername(username);
      if (!SLUG.test(slug)) {
        throw new Error(
          `"${username}" cannot be a username: it becomes the personal namespace slug "${slug}", which must be 1 to 64 ` +
            'lower-case letters, digits and hyphens, neither starting nor ending with a hyphen (a leading @ is dropped).',
        );
      }
      await refuseOrganisationSlug(config, slug);

      const secretFile = join(config.dataDir, 'jwt-secret');
      const existed = existsSync(secretFile);
      const token = await signToken(loadOrCreateSecret(config), username, days);
      // The token alone on stdout (TOKEN=$(dreamlake token alice)); where it came from on stderr.
      console.log(token);
      if (config.auth.jwtSecret) {
        console.error(`Signed with the secret from ${config.sources.jwtSecret} (data dir ${config.dataDir}).`);
      } else if (existed) {
        console.error(`Signed with the secret in ${secretFile} (data dir ${config.dataDir}).`);
      } else {
        console.error(
          `Warning: there was no secret yet, so a new one was created in ${secretFile}. Only a server using the data dir ` +
            `${config.dataDir} (or this secret as DREAMLAKE_JWT_SECRET) accepts this token: pass the server's --data if it uses another.`,
        );
      }
    });
}

/** An organisation owns the slug: a token for that username would be refused a personal namespace. */
async function refuseOrganisationSlug(config: Config, slug: string): Promise<void> {
  // A SQLite database that does not exist yet holds no organisations (and is not created just for this).
  if (!isPostgresUrl(config.databaseUrl) && (config.databaseUrl === ':memory:' || !existsSync(config.databaseUrl))) return;
  const database = createDatabase(config.databaseUrl, { poolSize: 1 });
  try {
    let kind: string | undefined;
    try {
      const row = await database.db
        .selectFrom('namespaces')
        .select('kind')
        .where('slug', '=', slug)
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
      kind = row?.kind as string | undefined;
    } catch (err) {
      // Not migrated yet: no namespaces at all.
      if (/no such table|does not exist/.test(err instanceof Error ? err.message : '')) return;
      throw describeDatabaseError(err, config);
    }
    if (kind === 'org') {
      throw new Error(
        `"${slug}" is the slug of an organisation namespace: a user with that name could not have a personal namespace. Choose another username.`,
      );
    }
  } finally {
    await database.close();
  }
}
