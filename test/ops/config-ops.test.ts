import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.js';
import { createTestApp } from '../helpers/app.js';

function iniFile(text: string) {
  const dir = mkdtempSync(join(tmpdir(), 'dreamlake-config-ops-'));
  const path = join(dir, 'dreamlake.ini');
  writeFileSync(path, text);
  return path;
}

describe('operations settings', () => {
  it('have the documented defaults: 10 s drain, synchronous normal, no CORS, metrics off', () => {
    const c = loadConfig({ config: iniFile('') }, {});
    expect(c).toMatchObject({ shutdownTimeoutSeconds: 10, stallSeconds: 60, sqliteSynchronous: 'normal', corsOrigins: [] });
    expect(c.metricsToken).toBeUndefined();
    expect(c.metricsPort).toBeUndefined();
  });

  it('are read from the INI file, and the environment wins over it', () => {
    const path = iniFile(
      '[server]\nshutdown_timeout = 30\nstall_timeout = 2m\ncors_origins = https://a.example, https://b.example\nmetrics_token = t1\nmetrics_port = 9464\n' +
        '[database]\nsqlite_synchronous = FULL\n',
    );
    expect(loadConfig({ config: path }, {})).toMatchObject({
      shutdownTimeoutSeconds: 30,
      stallSeconds: 120,
      corsOrigins: ['https://a.example', 'https://b.example'],
      metricsToken: 't1',
      metricsPort: 9464,
      sqliteSynchronous: 'full',
    });
    expect(
      loadConfig(
        { config: path },
        {
          DREAMLAKE_SHUTDOWN_TIMEOUT: '2.5',
          DREAMLAKE_STALL_TIMEOUT: '15',
          DREAMLAKE_CORS_ORIGINS: '*',
          DREAMLAKE_METRICS_TOKEN: 't2',
          DREAMLAKE_METRICS_PORT: '9000',
          DREAMLAKE_SQLITE_SYNCHRONOUS: 'normal',
        },
      ),
    ).toMatchObject({ shutdownTimeoutSeconds: 2.5, stallSeconds: 15, corsOrigins: ['*'], metricsToken: 't2', metricsPort: 9000, sqliteSynchronous: 'normal' });
  });

  it('read durations with the one duration parser: shutdown_timeout from 0, fractions included; lifetimes in whole seconds', () => {
    const shutdown = (value: string) => loadConfig({ config: iniFile('') }, { DREAMLAKE_SHUTDOWN_TIMEOUT: value }).shutdownTimeoutSeconds;
    expect([shutdown('0'), shutdown('2.5'), shutdown('45s'), shutdown('1m'), shutdown(' 7 ')]).toEqual([0, 2.5, 45, 60, 7]);
    expect(loadConfig({ config: iniFile('') }, { DREAMLAKE_UPLOAD_EXPIRY: '1.5m' }).lake.uploadExpiry).toBe(90);
  });

  it('refuse values that make no sense, naming the setting', () => {
    expect(() => loadConfig({ config: iniFile('') }, { DREAMLAKE_SQLITE_SYNCHRONOUS: 'off' })).toThrow(/sqlite_synchronous must be normal or full/);
    expect(() => loadConfig({ config: iniFile('') }, { DREAMLAKE_SHUTDOWN_TIMEOUT: 'soon' })).toThrow(/shutdown_timeout/);
    expect(() => loadConfig({ config: iniFile('') }, { DREAMLAKE_SHUTDOWN_TIMEOUT: '-1' })).toThrow(/shutdown_timeout/);
    expect(() => loadConfig({ config: iniFile('') }, { DREAMLAKE_UPLOAD_EXPIRY: '2.5' })).toThrow(/upload_expiry must be a duration/);
    expect(() => loadConfig({ config: iniFile('') }, { DREAMLAKE_UPLOAD_EXPIRY: '0' })).toThrow(/upload_expiry/);
    expect(() => loadConfig({ config: iniFile('') }, { DREAMLAKE_METRICS_PORT: '70000' })).toThrow(/metrics_port/);
    expect(() => loadConfig({ config: iniFile('') }, { DREAMLAKE_STALL_TIMEOUT: '0' })).toThrow(/stall_timeout must be a duration/);
  });

  it('record which setting each database URL came from (for start-up errors)', () => {
    const path = iniFile('[database]\nurl = postgres://u@h/db\n');
    expect(loadConfig({ config: path }, {}).sources.databaseUrl).toBe(`[database] url in ${path}`);
    expect(loadConfig({ config: path }, { DREAMLAKE_DATABASE_URL: 'x.sqlite' }).sources.databaseUrl).toBe('DREAMLAKE_DATABASE_URL');
    expect(loadConfig({ config: path, database: 'y.sqlite' }, {}).sources.databaseUrl).toBe('--database');
  });

  it.each([
    ['normal', 1],
    ['full', 2],
  ] as const)('sqlite_synchronous = %s sets PRAGMA synchronous on the server\'s SQLite connection', async (mode, value) => {
    const t = await createTestApp('sqlite', { DREAMLAKE_SQLITE_SYNCHRONOUS: mode });
    try {
      const { rows } = await sql<{ synchronous: number }>`pragma synchronous`.execute(t.database.db);
      expect(rows[0].synchronous).toBe(value);
    } finally {
      await t.close();
    }
  });
});
