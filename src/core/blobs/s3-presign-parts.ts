import { UploadPartCommand, type S3Client } from '@aws-sdk/client-s3';
import { formatUrl } from '@aws-sdk/core/util';
import { S3RequestPresigner } from '@aws-sdk/s3-request-presigner';

/** The SDK's HTTP request (what getSignedUrl signs and formats), as far as it is read or changed here. */
type Request = Parameters<S3RequestPresigner['presign']>[0] & { query: Record<string, string | string[] | null> };
/** What of the SDK's handler context is read here (its type lives in a transitive package). */
interface Context {
  endpointV2?: { properties?: { authSchemes?: { signingRegion?: string; signingName?: string }[] } };
  signing_region?: string;
  signing_service?: string;
}

/**
 * Presigned UploadPart URLs for many parts of one upload. `getSignedUrl` runs the client's whole middleware stack
 * (cloned) for every URL, about 70 KB of garbage each: the 512 parts of a 5 GiB file grew the server's heap by 35 MB
 * in one request. Here the stack runs once, for the first part, up to the point where the SDK signs; every part's
 * URL is then that request with its own part number, presigned with the same signer, region and service, exactly
 * as `getSignedUrl` would sign it.
 */
export async function presignUploadParts(
  client: S3Client,
  input: { Bucket: string; Key: string; UploadId: string },
  partNumbers: number[],
  expiresIn: number,
): Promise<Map<number, string>> {
  const urls = new Map<number, string>();
  if (!partNumbers.length) return urls;
  const { request, context } = await resolveRequest(client, new UploadPartCommand({ ...input, PartNumber: partNumbers[0] }));
  const authScheme = context.endpointV2?.properties?.authSchemes?.[0];
  const region = authScheme?.signingRegion ?? (await client.config.region());
  const presigner = new S3RequestPresigner({ ...client.config, signingName: authScheme?.signingName, region: async () => region });
  const options = {
    expiresIn,
    signingRegion: context.signing_region ?? region,
    signingService: context.signing_service,
  };
  for (const n of partNumbers) {
    const one = { ...request, headers: { ...request.headers }, query: { ...request.query, partNumber: String(n) } };
    urls.set(n, formatUrl(await presigner.presign(one, options)));
  }
  return urls;
}

/** The HTTP request the SDK would send for `command`, stopped just before it is signed (as getSignedUrl does). */
async function resolveRequest(client: S3Client, command: UploadPartCommand): Promise<{ request: Request; context: Context }> {
  let captured: { request: Request; context: Context } | undefined;
  const capture =
    (_next: unknown, context: Context) =>
    async (args: { request: unknown }) => {
      const request = args.request as Request;
      for (const h of ['amz-sdk-invocation-id', 'amz-sdk-request', 'x-amz-user-agent']) delete request.headers[h];
      captured = { request, context };
      return { response: {}, output: { $metadata: {} } };
    };
  const stack = client.middlewareStack.clone();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  stack.addRelativeTo(capture as any, { name: 'dreamlakeCapturePartRequest', relation: 'before', toMiddleware: 'awsAuthMiddleware', override: true });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const handler = command.resolveMiddleware(stack as any, client.config, {});
  await handler({ input: command.input });
  if (!captured) throw new Error('The S3 client did not build an UploadPart request.');
  return captured;
}
