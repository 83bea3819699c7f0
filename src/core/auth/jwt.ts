import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRemoteJWKSet, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Config } from '../config.js';
import { unauthorized } from '../errors.js';
import { unstorableText } from '../input-guard.js';

export interface Identity {
  subject: string;
  username: string;
}

export interface VerifyToken {
  (token: string): Promise<Identity>;
  /** The identity of a token already verified and not yet expired, without waiting; otherwise undefined. */
  cached(token: string): Identity | undefined;
}

/** The HS256 secret: configured, or generated once and kept in `<data_dir>/jwt-secret` (mode 0600). */
export function loadOrCreateSecret(config: Config): string {
  if (config.auth.jwtSecret) return config.auth.jwtSecret;
  const path = join(config.dataDir, 'jwt-secret');
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  mkdirSync(config.dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return secret;
}

/** `@Alice` → `alice`: the personal namespace slug of a username claim. */
export function normaliseUsername(raw: string): string {
  return raw.trim().replace(/^@/, '').toLowerCase();
}

export async function signToken(secret: string, username: string, days = 30, subject?: string): Promise<string> {
  return new SignJWT({ username })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(subject ?? normaliseUsername(username))
    .setIssuedAt()
    .setExpirationTime(`${days}d`)
    .sign(new TextEncoder().encode(secret));
}

const CACHE_LIMIT = 10_000;
export const MAX_SUBJECT_BYTES = 255;

/**
 * Verifies Bearer JWTs with jose. Verified tokens are remembered until they expire, so a client that
 * sends the same token on every request pays for the signature check once.
 */
export function createTokenVerifier(config: Config): VerifyToken {
  const key: Uint8Array | JWTVerifyGetKey = config.auth.jwksUrl
    ? createRemoteJWKSet(new URL(config.auth.jwksUrl))
    : new TextEncoder().encode(loadOrCreateSecret(config));
  const options = {
    issuer: config.auth.jwtIssuer,
    audience: config.auth.jwtAudience,
    algorithms: config.auth.jwksUrl ? undefined : ['HS256'],
  };
  const cache = new Map<string, { identity: Identity; expiresAt: number }>();

  const cached = (token: string): Identity | undefined => {
    const hit = cache.get(token);
    return hit && hit.expiresAt > Date.now() ? hit.identity : undefined;
  };

  const verify = async (token: string): Promise<Identity> => {
    const hit = cached(token);
    if (hit) return hit;

    let payload: JWTPayload;
    try {
      payload = typeof key === 'function' ? (await jwtVerify(token, key, options)).payload : (await jwtVerify(token, key, options)).payload;
    } catch {
      throw unauthorized('Invalid or expired token.');
    }
    if (payload.exp === undefined && !config.auth.allowTokensWithoutExp) {
      throw unauthorized('The token has no exp claim (set [auth] allow_tokens_without_exp to accept such tokens).');
    }
    const usernameClaim = typeof payload.username === 'string' ? payload.username : payload.sub;
    if (!payload.sub || !usernameClaim) throw unauthorized('Token lacks the sub or username claim.');
    // sub is stored as the user's subject: a NUL (which PostgreSQL text cannot hold) makes it no identity.
    if (unstorableText(payload.sub) || unstorableText(usernameClaim)) throw unauthorized('The token\'s sub or username claim contains a NUL character or an unpaired surrogate.');
    // sub is a unique, indexed column: bounded like every stored text (PostgreSQL refuses huge index entries).
    if (Buffer.byteLength(payload.sub) > MAX_SUBJECT_BYTES) throw unauthorized(`The token's sub claim is longer than ${MAX_SUBJECT_BYTES} bytes.`);
    const username = normaliseUsername(usernameClaim);
    if (!/^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/.test(username)) {
      throw unauthorized('The username claim is not a valid namespace slug.');
    }
    const identity = { subject: payload.sub, username };
    if (cache.size >= CACHE_LIMIT) cache.clear();
    const expiresAt = payload.exp === undefined ? Date.now() + 3_600_000 : payload.exp * 1000;
    cache.set(token, { identity, expiresAt: Math.min(expiresAt, Date.now() + 3_600_000) });
    return identity;
  };
  return Object.assign(verify, { cached });
}
