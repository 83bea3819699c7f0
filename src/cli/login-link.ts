import type { Command } from 'commander';
import { loadOrCreateSecret, signToken } from '../core/auth/jwt.js';
import { consoleUrl } from '../console/url.js';
import { configFrom, withCommonOptions } from './common.js';

export function registerLoginLink(program: Command) {
  withCommonOptions(
    program
      .command('login-link <username>')
      .description('print a console URL that signs the user in (the token rides in the #fragment, never in a log)'),
  )
    .option('--days <n>', 'days until the token expires', '30')
    .option('--host <host>', 'the server address (default from the config)')
    .option('--port <port>', 'the server port (default from the config)')
    .option('--base-url <url>', 'the server as browsers reach it, e.g. https://lake.example.com')
    .action(async (username: string, flags) => {
      const days = Number(flags.days);
      if (!Number.isInteger(days) || days < 1) throw new Error('--days must be a positive integer');
      const config = configFrom(flags);
      if (config.auth.jwksUrl) throw new Error('This server verifies tokens with a JWKS URL: get tokens from that identity provider.');
      const url = consoleUrl(config, config.port, flags.baseUrl);
      if (!url) throw new Error('The console is switched off (mount_console = off).');
      const token = await signToken(loadOrCreateSecret(config), username, days);
      console.log(`${url}#token=${token}`);
    });
}
