import { randomUUID } from 'node:crypto';
import { AbortMultipartUploadCommand, DeleteObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createS3BlobStore, type S3StoreOptions } from '../../src/core/blobs/s3-store.js';

/**
 * A real S3 API for the S3 blob store tests (`scripts/s3-swift.sh start` runs one: Swift + s3api), named by
 * DREAMLAKE_TEST_S3_ENDPOINT; without it those tests are skipped, and say so.
 */
export const S3_TEST: Omit<S3StoreOptions, 'prefix'> | undefined = process.env.DREAMLAKE_TEST_S3_ENDPOINT
  ? {
      endpoint: process.env.DREAMLAKE_TEST_S3_ENDPOINT,
      region: process.env.DREAMLAKE_TEST_S3_REGION ?? 'us-east-1',
      bucket: process.env.DREAMLAKE_TEST_S3_BUCKET ?? 'dreamlake-test',
      forcePathStyle: true,
      accessKeyId: process.env.DREAMLAKE_TEST_S3_ACCESS_KEY_ID ?? 'test:tester',
      secretAccessKey: process.env.DREAMLAKE_TEST_S3_SECRET_ACCESS_KEY ?? 'testing',
    }
  : undefined;

export const S3_SKIP_REASON =
  'S3 blob store tests SKIPPED: DREAMLAKE_TEST_S3_ENDPOINT is not set. Run `eval "$(scripts/s3-swift.sh start)"` ' +
  '(OpenStack Swift with s3api) to run them.';

/** A prefix of its own for each test store, so that runs and files never see each other's objects. */
export const testPrefix = () => `test-${randomUUID()}/`;

/** The server's environment for an app on the test S3 (what a user would export). */
export function s3AppEnv(prefix: string): NodeJS.ProcessEnv {
  if (!S3_TEST) throw new Error('no S3 endpoint');
  return {
    DREAMLAKE_STORAGE_BACKEND: 's3',
    DREAMLAKE_S3_ENDPOINT: S3_TEST.endpoint,
    DREAMLAKE_S3_REGION: S3_TEST.region,
    DREAMLAKE_S3_BUCKET: S3_TEST.bucket,
    DREAMLAKE_S3_PREFIX: prefix,
    DREAMLAKE_S3_ACCESS_KEY_ID: S3_TEST.accessKeyId,
    DREAMLAKE_S3_SECRET_ACCESS_KEY: S3_TEST.secretAccessKey,
  };
}

/** Every object key and open multipart upload under `prefix` (relative to it). */
export async function s3Contents(prefix: string): Promise<{ objects: string[]; uploads: string[] }> {
  const { client, bucket: Bucket } = createS3BlobStore({ ...S3_TEST!, prefix });
  const objects: string[] = [];
  let ContinuationToken: string | undefined;
  do {
    const out = await client.send(new ListObjectsV2Command({ Bucket, Prefix: prefix, ContinuationToken }));
    for (const o of out.Contents ?? []) objects.push(o.Key!.slice(prefix.length));
    ContinuationToken = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (ContinuationToken);
  const out = await client.send(new ListMultipartUploadsCommand({ Bucket, Prefix: prefix }));
  const uploads = (out.Uploads ?? []).map((u) => u.Key!.slice(prefix.length));
  client.destroy();
  return { objects: objects.sort(), uploads: uploads.sort() };
}

/** Removes everything a test left under `prefix`. */
export async function emptyS3Prefix(prefix: string) {
  const { client, bucket: Bucket } = createS3BlobStore({ ...S3_TEST!, prefix });
  for (;;) {
    const out = await client.send(new ListObjectsV2Command({ Bucket, Prefix: prefix }));
    for (const o of out.Contents ?? []) await client.send(new DeleteObjectCommand({ Bucket, Key: o.Key! }));
    if (!out.IsTruncated) break;
  }
  const out = await client.send(new ListMultipartUploadsCommand({ Bucket, Prefix: prefix }));
  for (const u of out.Uploads ?? []) await client.send(new AbortMultipartUploadCommand({ Bucket, Key: u.Key!, UploadId: u.UploadId! }));
  client.destroy();
}
