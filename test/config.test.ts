import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/core/config.js';

function iniFile(text: string) {
  const dir = mkdtempSync(join(tmpdir(), 'dreamlake-config-'));
  const path = join(dir, 'dreamlake.ini');
  writeFileSync(path, text);
  return path;
}

describe('configuration', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({ config: iniFile('') }, {});
    expect(c.port).toBe(8080);
    expect(c.host).toBe('127.0.0.1');
    expect(c.dataDir).toMatch(/data$/);
    expect(c.databaseUrl).toBe(join(c.dataDir, 'dreamlake.sqlite'));
    expect(c.mounts).toEqual({ lake: '/', script: '/dreamscript', space: '/dreamspace', console: '/console' });
    expect(c.space.apiToken).toBe('SecureToken');
    expect(c.script.rateLimit).toBe(100);
    expect(c.databasePoolSize).toBe(10);
    expect(c.responseCacheEntries).toBe(10_000);
  });

  it('reads the pool size and the response cache size from the file and the environment', () => {
    const path = iniFile('[server]\nresponse_cache_entries = 50\n[database]\npool_size = 4\n');
    expect(loadConfig({ config: path }, {})).toMatchObject({ databasePoolSize: 4, responseCacheEntries: 50 });
    const env = { DREAMLAKE_DATABASE_POOL_SIZE: '20', DREAMLAKE_RESPONSE_CACHE_ENTRIES: '0' };
    expect(loadConfig({ config: path }, env)).toMatchObject({ databasePoolSize: 20, responseCacheEntries: 0 });
  });

  it('reads the INI file, including the documented [API] APITOKEN', () => {
    const path = iniFile(
      '[server]\nport = 9000\nhost = 0.0.0.0\nmount_dreamspace = /\nmount_dreamlake = off\n[database]\nurl = postgres://x@h/db\n[auth]\njwt_secret = s3cret\n[API]\nAPITOKEN = tok\n[dreamscript]\nrate_limit = 5\n',
    );
    const c = loadConfig({ config: path }, {});
    expect(c).toMatchObject({ port: 9000, host: '0.0.0.0', databaseUrl: 'postgres://x@h/db', space: { apiToken: 'tok' }, script: { rateLimit: 5 } });
    expect(c.auth.jwtSecret).toBe('s3cret');
    expect(c.mounts).toEqual({ lake: null, script: '/dreamscript', space: '/', console: '/console' });
  });

  it('moves or switches off the console: [server] mount_console, DREAMLAKE_MOUNT_CONSOLE; never at /', () => {
    const path = iniFile('[server]\nmount_console = /ui/\n');
    expect(loadConfig({ config: path }, {}).mounts.console).toBe('/ui');
    expect(loadConfig({ config: path }, { DREAMLAKE_MOUNT_CONSOLE: 'off' }).mounts.console).toBeNull();
    expect(() => loadConfig({ config: path }, { DREAMLAKE_MOUNT_CONSOLE: '/' })).toThrow(/mount_console/);
  });

  it('ranks flags over environment over file over defaults', () => {
    const path = iniFile('[server]\nport = 9000\nhost = 10.0.0.1\ndata_dir = /tmp/from-file\n');
    const env = { DREAMLAKE_PORT: '9100', DREAMLAKE_DATA_DIR: '/tmp/from-env', DREAMSPACE_APITOKEN: 'env-token', DREAMSCRIPT_RATE_LIMIT: '0' };
    const c = loadConfig({ config: path, port: '9200' }, env);
    expect(c.port).toBe(9200);
    expect(c.host).toBe('10.0.0.1');
    expect(c.dataDir).toBe('/tmp/from-env');
    expect(c.space.apiToken).toBe('env-token');
    expect(c.script.rateLimit).toBe(0);
    expect(loadConfig({ config: path }, env).port).toBe(9100);
  });

  it('refuses bad values with a clear message', () => {
    expect(() => loadConfig({ port: 'eighty' }, {})).toThrow(/port/);
    expect(() => loadConfig({ port: '70000' }, {})).toThrow(/port/);
    expect(() => loadConfig({ config: '/no/such/file.ini' }, {})).toThrow(/not found/);
    expect(() => loadConfig({ config: iniFile('[server]\nmount_dreamscript = nope\n') }, {})).toThrow(/mount/);
    expect(() => loadConfig({}, { DREAMLAKE_DATABASE_POOL_SIZE: '0' })).toThrow(/pool_size/);
    expect(() => loadConfig({}, { DREAMLAKE_RESPONSE_CACHE_ENTRIES: '-1' })).toThrow(/response_cache_entries/);
  });
});
