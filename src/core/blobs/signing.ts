import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

export type SignatureCheck = 'ok' | 'expired' | 'invalid';

/** HMAC signatures for the server's own expiring URLs (part uploads, downloads on the filesystem store). */
export interface UrlSigner {
  /** The signature of `fields` (what the URL is bound to) valid until `expires` (Unix seconds). */
  sign(fields: readonly string[], expires: number): string;
  verify(fields: readonly string[], expires: number, signature: string, now?: number): SignatureCheck;
}

/**
 * The signing key is derived from the server's JWT secret (HKDF-SHA256 with a purpose label), so URLs never
 * carry, and cannot reveal, the secret that signs tokens; replicas sharing that secret accept each other's URLs.
 */
export function createUrlSigner(secret: string): UrlSigner {
  const key = Buffer.from(hkdfSync('sha256', secret, 'dreamlake', 'signed urls v1', 32));
  const mac = (fields: readonly string[], expires: number) =>
    createHmac('sha256', key).update([...fields, String(expires)].join('\n')).digest();
  return {
    sign: (fields, expires) => mac(fields, expires).toString('base64url'),
    verify(fields, expires, signature, now = Date.now() / 1000) {
      if (!Number.isSafeInteger(expires) || !/^[\w-]{43}$/.test(signature)) return 'invalid';
      if (!timingSafeEqual(mac(fields, expires), Buffer.from(signature, 'base64url'))) return 'invalid';
      return expires > now ? 'ok' : 'expired';
    },
  };
}
