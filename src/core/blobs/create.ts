import { join } from 'node:path';
import type { Config } from '../config.js';
import { createFsBlobStore } from './fs-store.js';
import { createS3BlobStore } from './s3-store.js';
import type { BlobStore } from './store.js';

/** The blob store `[storage] backend` names: the filesystem under <data_dir>/blobs (default) or an S3 bucket. */
export function createBlobStore(config: Config): BlobStore {
  const { backend, s3 } = config.storage;
  if (backend === 's3') return createS3BlobStore({ ...s3, bucket: s3.bucket ?? '' });
  return createFsBlobStore(join(config.dataDir, 'blobs'));
}
