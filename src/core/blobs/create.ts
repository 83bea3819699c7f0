import { join } from 'node:path';
import type { Config } from '../config.js';
import { createFsBlobStore } from './fs-store.js';
import type { BlobStore } from './store.js';

/**
 * The blob store `[storage] backend` names: the filesystem under <data_dir>/blobs (default) or an S3 bucket.
 * The AWS SDK is loaded only for S3 (it costs start-up time and tens of MB that filesystem users need not pay).
 */
export async function createBlobStore(config: Config): Promise<BlobStore> {
  const { backend, s3 } = config.storage;
  if (backend === 's3') {
    const { createS3BlobStore } = await import('./s3-store.js');
    return createS3BlobStore({ ...s3, bucket: s3.bucket ?? '' });
  }
  return createFsBlobStore(join(config.dataDir, 'blobs'));
}
