import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createBlobStore } from '../src/core/blobs/create.js';
import { loadConfig } from '../src/core/config.js';

function iniFile(text: string) {
  const dir = mkdtempSync(join(tmpdir(), 'dreamlake-config-'));
  const path = join(dir, 'dreamlake.ini');
  writeFileSync(path, text);
  return path;
}

describe('[storage] configuration', () => {
  it('defaults to the filesystem store', async () => {
    const c = loadConfig({ config: iniFile('') }, {});
    expect(c.storage.backend).toBe('fs');
    expect(c.storage.s3).toMatchObject({ region: 'us-east-1', prefix: '', forcePathStyle: true });
    expect(await createBlobStore(c)).not.toHaveProperty('client');
  });

  it('reads the S3 settings from the file, the credentials only from the environment, env over file', async () => {
    const path = iniFile(
      '[storage]\nbackend = s3\ns3_endpoint = http://127.0.0.1:18080\ns3_region = eu-west-1\ns3_bucket = lake\n' +
        's3_prefix = /dreamlake\ns3_force_path_style = false\n',
    );
    const fromFile = loadConfig({ config: path }, { AWS_ACCESS_KEY_ID: 'aws-id', AWS_SECRET_ACCESS_KEY: 'aws-secret' });
    expect(fromFile.storage).toEqual({
      backend: 's3',
      s3: {
        endpoint: 'http://127.0.0.1:18080',
        region: 'eu-west-1',
        bucket: 'lake',
        prefix: 'dreamlake/',
        forcePathStyle: false,
        accessKeyId: 'aws-id',
        secretAccessKey: 'aws-secret',
      },
    });
    const fromEnv = loadConfig(
      { config: path },
      {
        DREAMLAKE_STORAGE_BACKEND: 'fs',
        DREAMLAKE_S3_BUCKET: 'other',
        DREAMLAKE_S3_PREFIX: 'a/b/',
        DREAMLAKE_S3_FORCE_PATH_STYLE: 'true',
        DREAMLAKE_S3_ACCESS_KEY_ID: 'dl-id',
        DREAMLAKE_S3_SECRET_ACCESS_KEY: 'dl-secret',
        AWS_ACCESS_KEY_ID: 'aws-id',
      },
    );
    expect(fromEnv.storage).toMatchObject({
      backend: 'fs',
      s3: { bucket: 'other', prefix: 'a/b/', forcePathStyle: true, accessKeyId: 'dl-id', secretAccessKey: 'dl-secret' },
    });
    expect(await createBlobStore(fromFile)).toHaveProperty('bucket', 'lake');
  });

  it('refuses an unknown backend, a bad path-style flag, and s3 without a bucket', () => {
    expect(() => loadConfig({ config: iniFile('[storage]\nbackend = ftp\n') }, {})).toThrow(/backend must be "fs" or "s3"/);
    expect(() => loadConfig({ config: iniFile('') }, { DREAMLAKE_S3_FORCE_PATH_STYLE: 'maybe' })).toThrow(/s3_force_path_style/);
    expect(() => loadConfig({ config: iniFile('') }, { DREAMLAKE_STORAGE_BACKEND: 's3' })).toThrow(/s3_bucket/);
  });
});
