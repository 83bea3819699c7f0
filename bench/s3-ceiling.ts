// The S3 server's own throughput, without DreamLake: what `dreamlake upload`/`download` on the S3 store can at
// best reach. The same file goes up as 10 MiB parts, 4 at a time, straight to presigned UploadPart URLs, then is
// read back with one GET and with 4 ranged GETs at a time (what `complete` does to verify the SHA-256, and what
// `dreamlake download` does); last, server-side copies, timed (what `complete` did before blobs/<sha256> could
// be a pointer to the assembled object).
import { open } from 'node:fs/promises';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CopyObjectCommand, CreateMultipartUploadCommand, DeleteObjectCommand,
  GetObjectCommand, S3Client, UploadPartCommand, UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

const PART = 10 * 1024 * 1024;

export interface S3Ceiling {
  putMs: number;
  completeMs: number;
  getMs: number;
  rangedGetMs: number;
  copyMs: number;
  partCopyMs: number;
}

export async function measureS3Ceiling(file: string, size: number, env: NodeJS.ProcessEnv): Promise<S3Ceiling> {
  const client = new S3Client({
    region: env.DREAMLAKE_TEST_S3_REGION ?? 'us-east-1',
    endpoint: env.DREAMLAKE_TEST_S3_ENDPOINT,
    forcePathStyle: true,
    credentials: { accessKeyId: env.DREAMLAKE_TEST_S3_ACCESS_KEY_ID ?? 'test:tester', secretAccessKey: env.DREAMLAKE_TEST_S3_SECRET_ACCESS_KEY ?? 'testing' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const Bucket = env.DREAMLAKE_TEST_S3_BUCKET ?? 'dreamlake-test';
  const Key = `bench-ceiling-${Date.now().toString(36)}`;
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
  const fh = await open(file, 'r');
  try {
    const parts = Math.ceil(size / PART);
    const etags: string[] = [];
    let t = Date.now();
    await pool(parts, 4, async (i) => {
      const length = Math.min(PART, size - i * PART);
      const body = Buffer.allocUnsafe(length);
      await fh.read(body, 0, length, i * PART);
      const url = await getSignedUrl(client, new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1 }), { expiresIn: 3600 });
      const res = await fetch(url, { method: 'PUT', body, headers: { 'content-length': String(length) } });
      if (!res.ok) throw new Error(`part ${i + 1}: HTTP ${res.status}`);
      etags[i] = res.headers.get('etag') ?? '';
    });
    const putMs = Date.now() - t;
    t = Date.now();
    await client.send(
      new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ PartNumber: i + 1, ETag })) } }),
    );
    const completeMs = Date.now() - t;
    t = Date.now();
    const whole = await client.send(new GetObjectCommand({ Bucket, Key }));
    for await (const _ of whole.Body as AsyncIterable<Uint8Array>);
    const getMs = Date.now() - t;
    t = Date.now();
    await pool(Math.ceil(size / (8 * PART)), 4, async (i) => {
      const start = i * 8 * PART;
      const out = await client.send(new GetObjectCommand({ Bucket, Key, Range: `bytes=${start}-${Math.min(size, start + 8 * PART) - 1}` }));
      for await (const _ of out.Body as AsyncIterable<Uint8Array>);
    });
    const rangedGetMs = Date.now() - t;
    t = Date.now();
    const copyKey = `${Key}-copy`;
    await client.send(new CopyObjectCommand({ Bucket, Key: copyKey, CopySource: `${Bucket}/${Key}` }));
    const copyMs = Date.now() - t;
    await client.send(new DeleteObjectCommand({ Bucket, Key: copyKey }));
    t = Date.now();
    const up = await client.send(new CreateMultipartUploadCommand({ Bucket, Key: copyKey }));
    const copied: { PartNumber: number; ETag?: string }[] = [];
    const each = 128 * 1024 * 1024;
    await pool(Math.ceil(size / each), 4, async (i) => {
      const range = `bytes=${i * each}-${Math.min(size, (i + 1) * each) - 1}`;
      const out = await client.send(new UploadPartCopyCommand({ Bucket, Key: copyKey, UploadId: up.UploadId, PartNumber: i + 1, CopySource: `${Bucket}/${Key}`, CopySourceRange: range }));
      copied[i] = { PartNumber: i + 1, ETag: out.CopyPartResult?.ETag };
    });
    await client.send(new CompleteMultipartUploadCommand({ Bucket, Key: copyKey, UploadId: up.UploadId, MultipartUpload: { Parts: copied } }));
    const partCopyMs = Date.now() - t;
    await client.send(new DeleteObjectCommand({ Bucket, Key: copyKey }));
    await client.send(new DeleteObjectCommand({ Bucket, Key }));
    return { putMs, completeMs, getMs, rangedGetMs, copyMs, partCopyMs };
  } catch (err) {
    await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => undefined);
    throw err;
  } finally {
    await fh.close();
    client.destroy();
  }
}

async function pool(count: number, width: number, task: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < count) await task(next++);
  }));
}
