import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A new API key secret: shown once to its owner, stored only as a hash. */
export function generateApiKey(prefix = 'ds'): string {
  return `${prefix}_${randomBytes(24).toString('base64url')}`;
}

export function hashApiKey(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Constant-time comparison of two secrets (hashing first makes the lengths equal). */
export function secretsEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
