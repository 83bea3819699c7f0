import { describe, expect, it } from 'vitest';
import { createS3BlobStore } from '../src/core/blobs/s3-store.js';

// No S3 server is needed: the AWS SDK decides whether to warn about the Node version when a client is built.
describe('S3 store start-up', () => {
  it('prints no AWS SDK notice about Node versions its pinned release still supports', async () => {
    const warnings: string[] = [];
    const listen = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', listen);
    try {
      const store = createS3BlobStore({ endpoint: 'http://127.0.0.1:9', region: 'us-east-1', bucket: 'b', prefix: '', forcePathStyle: true, accessKeyId: 'a', secretAccessKey: 's' });
      await store.client.config.region(); // the client's configuration is resolved (and any warning emitted) by now
      await new Promise((r) => setImmediate(r)); // warnings are delivered on a later tick
      store.client.destroy();
    } finally {
      process.off('warning', listen);
    }
    expect(warnings.filter((w) => w.includes('NodeVersionSupportWarning'))).toEqual([]);
  });
});
