import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { download } from './download.js';
import { formatBytes } from './progress.js';
import { allPages, loadCredentials, lookup, parseTarget, Remote, saveCredentials, type Fetch } from './remote.js';
import { upload } from './upload.js';

export interface ClientDeps {
  fetch?: Fetch;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

/** `dreamlake login --server URL [--token T]`: checks the token with GET /auth/me, then keeps both (0600). */
export async function login(server: string, token: string | undefined, deps: ClientDeps = {}): Promise<string> {
  const env = deps.env ?? process.env;
  const log = deps.log ?? console.log;
  let secret = token ?? env.DREAMLAKE_TOKEN;
  if (!secret) {
    if (!process.stdin.isTTY) throw new Error('No token: pass --token TOKEN or set DREAMLAKE_TOKEN.');
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    secret = (await rl.question('Token: ')).trim();
    rl.close();
  }
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new Error(`--server must be a URL such as http://127.0.0.1:8080 (got "${server}").`);
  }
  const credentials = { server: url.toString().replace(/\/+$/, ''), token: secret };
  const remote = new Remote(credentials, deps.fetch);
  const me = await remote.json<{ username?: string; namespace?: { slug?: string } }>(`${remote.base}/auth/me`).catch((err: Error) => {
    throw new Error(`✗ login to ${remote.base} failed: ${err.message}`);
  });
  const path = await saveCredentials(credentials, env);
  log(`Logged in to ${remote.base} as ${me.username ?? me.namespace?.slug ?? '?'} (credentials in ${path})`);
  return path;
}

/** `dreamlake ls ns/project[/path]`: a folder's children (or one file), one line each. */
export async function ls(target: string, deps: ClientDeps = {}): Promise<void> {
  const log = deps.log ?? console.log;
  const remote = new Remote(await loadCredentials(deps.env ?? process.env), deps.fetch);
  const { namespace, project, path } = parseTarget(target);
  const node = await lookup(remote, namespace, project, path);
  if (!node) throw new Error(`✗ nothing found at ${path} in ${namespace}/${project}`);
  const line = (n: typeof node) =>
    `${n.kind.padEnd(8)} ${(n.leaf ? formatBytes(n.size ?? 0) : '-').padStart(10)}  ${n.path}${n.leaf ? '' : '/'}`;
  if (node.leaf) return log(line(node));
  const query = node.kind === 'project' ? '' : `parentId=${encodeURIComponent(node.id)}&`;
  for await (const child of allPages(remote, (page) => remote.projectUrl(namespace, project, `/nodes?${query}pageSize=200&page=${page}`))) {
    log(line(child));
  }
}

export function registerClient(program: Command) {
  program
    .command('login')
    .description('keep the server URL and a token for ls, upload and download (in ~/.config/dreamlake, mode 0600)')
    .requiredOption('--server <url>', 'the DreamLake server, e.g. http://127.0.0.1:8080')
    .option('--token <token>', 'a DreamLake token (else DREAMLAKE_TOKEN, else asked on the terminal)')
    .action(async (flags: { server: string; token?: string }) => {
      await login(flags.server, flags.token);
    });
  program
    .command('ls')
    .description('list a folder of a project: dreamlake ls namespace/project[/path]')
    .argument('<target>', 'namespace/project[/path]')
    .action(async (target: string) => ls(target));
  program
    .command('upload')
    .description('upload a file or a folder (recursively) into a project; re-run to resume, files already there are skipped')
    .argument('<local>', 'a local file or folder')
    .argument('<target>', 'namespace/project[/path]: the folder to put it in')
    .option('--episode <name>', 'put the files inside this episode')
    .action(async (local: string, target: string, flags: { episode?: string }) => {
      await upload(local, target, { episode: flags.episode });
    });
  program
    .command('download')
    .description('download a file, folder, episode or project (recursively), 4 parts at a time; re-run to resume')
    .argument('<target>', 'namespace/project/path')
    .argument('[local]', 'where to put it (default: its name in the current folder)')
    .action(async (target: string, local?: string) => {
      await download(target, local);
    });
}
