import type { FastifyRequest } from 'fastify';
import type { UrlSigner } from '../../core/blobs/signing.js';
import type { Config } from '../../core/config.js';

// The server's own signed URLs (filesystem store): what each is bound to, and where it points. A URL carries
// its expiry and an HMAC over its purpose, its subject and that expiry; nothing else in it is trusted.

const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

/**
 * Where this server's routes are reachable from outside: `[dreamlake] public_url`, else the request's own origin.
 * A Host header that names no host (missing, as HTTP/1.0 allows, or not a host name) is never copied into a link:
 * the address the request came in on stands in for it.
 */
export function externalBase(config: Config, request: FastifyRequest, mountPrefix: string): string {
  const origin = config.lake.publicUrl ?? `${request.protocol}://${HOST.test(request.host) ? request.host : localAddressOf(request)}`;
  return `${origin}${mountPrefix}`;
}

function localAddressOf(request: FastifyRequest): string {
  const { localAddress = '127.0.0.1', localPort } = request.socket;
  const host = localAddress.includes(':') ? `[${localAddress}]` : localAddress;
  return localPort ? `${host}:${localPort}` : host;
}

export const PART_PATH = '/files/upload/part';
export const SIGNED_DOWNLOAD_PATH = '/files/signed';

export const partFields = (uploadId: string, partNumber: number) => ['part', uploadId, String(partNumber)];
export const downloadFields = (nodeId: string, sha256: string) => ['download', nodeId, sha256];

export function partUrl(base: string, signer: UrlSigner, uploadId: string, partNumber: number, expires: number): string {
  const signature = signer.sign(partFields(uploadId, partNumber), expires);
  const query = new URLSearchParams({ uploadId, partNumber: String(partNumber), expires: String(expires), signature });
  return `${base}${PART_PATH}?${query}`;
}

export function downloadUrl(base: string, signer: UrlSigner, nodeId: string, sha256: string, expires: number): string {
  const signature = signer.sign(downloadFields(nodeId, sha256), expires);
  const query = new URLSearchParams({ sha256, expires: String(expires), signature });
  return `${base}${SIGNED_DOWNLOAD_PATH}/${encodeURIComponent(nodeId)}?${query}`;
}

export const unixNow = () => Math.floor(Date.now() / 1000);
