import { Command } from 'commander';
import { registerBackup } from './backup.js';
import { registerClient } from './client/commands.js';
import { ENVIRONMENT_HELP, packageVersion } from './common.js';
import { registerKeys } from './keys.js';
import { registerGc } from './gc.js';
import { registerMigrate } from './migrate.js';
import { registerServe } from './serve.js';
import { registerToken } from './token.js';
import { registerLoginLink } from './login-link.js';

export async function main(argv: string[]): Promise<void> {
  const program = new Command('dreamlake')
    .description('DreamLake server: the DreamLake, Dreamscript database and Dreamspace Adventures APIs')
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .showHelpAfterError()
    .addHelpText('after', ENVIRONMENT_HELP);
  registerServe(program);
  registerToken(program);
  registerLoginLink(program);
  registerMigrate(program);
  registerGc(program);
  registerKeys(program);
  registerBackup(program);
  registerClient(program);
  // Bare `dreamlake`: the help, and success (commander's default is the help on stderr and exit code 1).
  program.allowExcessArguments().action(() => {
    if (program.args.length > 0) program.error(`error: unknown command '${program.args[0]}' (see dreamlake --help)`);
    program.help();
  });
  await program.parseAsync(argv);
}
