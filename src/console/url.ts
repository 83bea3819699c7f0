import type { Config } from '../core/config.js';

/** The console's address as a browser on this machine reaches it (a wildcard listen address means localhost). */
export function consoleUrl(config: Config, port = config.port, base?: string): string | null {
  if (!config.mounts.console) return null;
  if (base) return `${base.replace(/\/+$/, '')}${config.mounts.console}/`;
  const wildcard = config.host === '0.0.0.0' || config.host === '::' || config.host === '';
  const host = wildcard ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;
  return `http://${host}:${port}${config.mounts.console}/`;
}
