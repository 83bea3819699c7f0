import type { Command } from 'commander';
import { loadConfig, type Config, type ConfigFlags } from '../core/config.js';

/** Options every command takes. */
export function withCommonOptions(command: Command): Command {
  return command
    .option('--config <path>', 'INI config file (default ./dreamlake.ini if present)')
    .option('--data <dir>', 'data directory (default ./data)')
    .option('--database <url>', 'database URL: postgres://… or a SQLite file path');
}

export function configFrom(flags: ConfigFlags): Config {
  return loadConfig(flags);
}
