import type { Command } from 'commander';
import { startServer } from '../server.js';
import { configFrom, ENVIRONMENT_HELP, withCommonOptions } from './common.js';

export function registerServe(program: Command) {
  withCommonOptions(program.command('serve').description('serve all mounted APIs over HTTP'))
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .option('--port <port>', 'port to listen on; 0 picks any free port (default 8080)')
    .option('--log-level <level>', 'pino log level (default info)')
    .addHelpText('after', ENVIRONMENT_HELP)
    .action(async (flags) => {
      await startServer(configFrom(flags));
    });
}
