import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { createScriptTestApp, DIALECTS, type ScriptTestApp } from './helpers.js';

describe.each(DIALECTS)('dreamlake keys (%s)', (dialect) => {
  let t: ScriptTestApp;
  beforeAll(async () => {
    t = await createScriptTestApp(dialect);
  });
  afterAll(async () => t.close());
  afterEach(() => vi.restoreAllMocks());

  const run = async (...args: string[]) => {
    const out = vi.spyOn(console, 'log').mockImplementation(() => {});
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      await main(['node', 'dreamlake', 'keys', ...args, '--database', t.databaseArg]);
      return { stdout: out.mock.calls.map((c) => String(c[0])), stderr: err.mock.calls.map((c) => String(c[0])) };
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  };

  it('create prints the secret once on stdout; the key works and only its hash is stored', async () => {
    const { stdout, stderr } = await run('create', '--name', 'bootstrap', '--admin');
    expect(stdout).toHaveLength(1);
    const secret = stdout[0];
    expect(secret).toMatch(/^ds_[\w-]{32}$/);
    expect(stderr[0]).toMatch(/^Created key \d+ \(all projects, read-write, admin\)\. Store the secret now/);
    const rows = await t.db.selectFrom('script_keys').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(secret);

    const res = await t.call(secret, { method: 'POST', url: '/projects', payload: { name: 'from the CLI key' } });
    expect(res.statusCode).toBe(201);
    expect((await t.call(secret, { method: 'GET', url: '/keys' })).statusCode).toBe(200);
  });

  it('create --projects --read-only makes a scoped read-only key', async () => {
    const admin = await t.key();
    const project = (await t.call(admin, { method: 'POST', url: '/projects', payload: { name: 'scoped' } })).json().id;
    const { stdout } = await run('create', '--projects', String(project), '--read-only');
    const secret = stdout[0];
    expect((await t.call(secret, { method: 'GET', url: '/projects' })).json().map((p: { id: number }) => p.id)).toEqual([project]);
    expect((await t.call(secret, { method: 'POST', url: '/documents', payload: { title: 'x', projectId: project } })).statusCode).toBe(403);
    expect((await t.call(secret, { method: 'GET', url: '/keys' })).statusCode).toBe(403);
  });

  it('refuses bad --projects and impossible combinations, storing nothing', async () => {
    const before = (await t.db.selectFrom('script_keys').select('id').execute()).length;
    await expect(run('create', '--projects', '1,abc')).rejects.toThrow(/positive integer/);
    await expect(run('create', '--projects', '999999')).rejects.toThrow(/Unknown projects: 999999/);
    await expect(run('create', '--admin', '--read-only')).rejects.toThrow(/admin/);
    expect((await t.db.selectFrom('script_keys').select('id').execute()).length).toBe(before);
  });

  it('list shows live keys without secrets; revoke stops a key at once', async () => {
    const { stdout } = await run('create', '--name', 'temporary');
    const secret = stdout[0];
    const listed = (await run('list')).stdout;
    const line = listed.find((l) => l.includes('temporary'))!;
    expect(line).toContain(secret.slice(0, 10));
    expect(listed.join('\n')).not.toContain(secret);
    const id = line.split('\t')[0];

    expect((await t.call(secret, { method: 'GET', url: '/documents' })).statusCode).toBe(200);
    expect((await run('revoke', id)).stdout).toEqual([`Revoked key ${id}.`]);
    expect((await t.call(secret, { method: 'GET', url: '/documents' })).statusCode).toBe(401);
    await expect(run('revoke', id)).rejects.toThrow(/No live key/);
    expect((await run('list')).stdout.join('\n')).not.toContain('temporary');
  });
});
