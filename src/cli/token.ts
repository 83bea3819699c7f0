import type { Command } from 'commander';
import { loadOrCreateSecret, signToken } from '../core/auth/jwt.js';
import { configFrom, withCommonOptions } from './common.js';

export function registerToken(program: Command) {
  withCommonOptions(program.command('token <username>').description('print a DreamLake JWT for a user'))
    .option('--days <n>', 'days until the token expires', '30')
    .action(async (username: string, flags) => {
      const days = Number(flags.days);
      if (!Number.isInteger(days) || days < 1) throw new Error('--days must be a positive integer');
      const config = configFrom(flags);
      if (config.auth.jwksUrl) throw new Error('This server verifies tokens with a JWKS URL: get tokens from that identity provider.');
      console.log(await signToken(loadOrCreateSecret(config), username, days));
    });
}
