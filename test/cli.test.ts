import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, jwtVerify } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ENVIRONMENT_HELP } from '../src/cli/common.js';
import { main } from '../src/cli/main.js';

describe('dreamlake token', () => {
  afterEach(() => vi.restoreAllMocks());

  it('prints a token signed with the secret it keeps in <data>/jwt-secret (0600)', async () => {
    const data = mkdtempSync(join(tmpdir(), 'dreamlake-cli-'));
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await main(['node', 'dreamlake', 'token', '@Alice', '--days', '2', '--data', data]);
    const token = String(log.mock.calls[0][0]);
    const secretPath = join(data, 'jwt-secret');
    expect(statSync(secretPath).mode & 0o777).toBe(0o600);
    const secret = readFileSync(secretPath, 'utf8').trim();
    const { payload } = await jwtVerify(token, new TextEncoder().encode(secret));
    expect(payload).toMatchObject({ sub: 'alice', username: '@Alice' });
    const days = ((payload.exp ?? 0) - (payload.iat ?? 0)) / 86400;
    expect(days).toBe(2);

    // A second token reuses the same secret.
    await main(['node', 'dreamlake', 'token', 'bob', '--data', data]);
    const second = String(log.mock.calls[1][0]);
    expect(decodeJwt(second).sub).toBe('bob');
    await expect(jwtVerify(second, new TextEncoder().encode(secret))).resolves.toBeTruthy();
  });

  it('refuses a non-numeric --days', async () => {
    const data = mkdtempSync(join(tmpdir(), 'dreamlake-cli-'));
    await expect(main(['node', 'dreamlake', 'token', 'alice', '--days', 'soon', '--data', data])).rejects.toThrow(/days/);
  });
});

describe('dreamlake migrate', () => {
  it('migrates a fresh SQLite database, then reports it up to date', async () => {
    const data = mkdtempSync(join(tmpdir(), 'dreamlake-cli-'));
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await main(['node', 'dreamlake', 'migrate', '--data', data]);
    expect(String(log.mock.calls[0][0])).toMatch(/^Applied: 001-lake-core/);
    await main(['node', 'dreamlake', 'migrate', '--data', data]);
    expect(String(log.mock.calls[1][0])).toBe('Database is up to date.');
    log.mockRestore();
  });
});

describe('dreamlake --help', () => {
  it('lists every environment variable the sources read (the README promises "every environment variable")', () => {
    const root = new URL('../src/', import.meta.url);
    const read = new Set<string>();
    for (const file of readdirSync(root, { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.ts')) continue;
      for (const [name] of readFileSync(new URL(file, root), 'utf8').matchAll(/\b(?:DREAMLAKE|DREAMSCRIPT|DREAMSPACE)_[A-Z0-9_]+/g)) read.add(name);
    }
    expect(read.size).toBeGreaterThan(30);
    expect([...read].filter((name) => !ENVIRONMENT_HELP.includes(name)).sort()).toEqual([]);
  });
});
