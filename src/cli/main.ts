import { Command } from 'commander';
import { registerClient } from './client/commands.js';
import { registerKeys } from './keys.js';
import { registerGc } from './gc.js';
import { registerMigrate } from './migrate.js';
import { registerServe } from './serve.js';
import { registerToken } from './token.js';

export async function main(argv: string[]): Promise<void> {
  const program = new Command('dreamlake')
    .description('DreamLake server: the DreamLake, Dreamscript database and Dreamspace Adventures APIs')
    .showHelpAfterError();
  registerServe(program);
  registerToken(program);
  registerMigrate(program);
  registerGc(program);
  registerKeys(program);
  registerClient(program);
  await program.parseAsync(argv);
}
