import type { FastifyRequest } from 'fastify';
import { unauthorized } from '../../core/errors.js';
import { keyForSecret } from '../access/authenticate.js';
import type { ScriptContext } from '../context.js';

/**
 * The API key of a CouchDB request: `X-API-Key`, or HTTP Basic with the key as the password (any user
 * name), so that `http://any:KEY@host/…` URLs work for replicators. Null when none is sent.
 */
export function secretOf(request: FastifyRequest): string | null {
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header !== '') return header;
  const auth = request.headers.authorization;
  if (typeof auth !== 'string') return null;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(auth);
  if (!m) return null;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const password = colon < 0 ? '' : decoded.slice(colon + 1);
  return password === '' ? null : password;
}

export async function authenticate(sc: ScriptContext, request: FastifyRequest): Promise<void> {
  const secret = secretOf(request);
  if (secret === null) throw unauthorized('Send your API key as X-API-Key, or as the password of HTTP Basic auth.');
  request.scriptKey = await keyForSecret(sc, secret);
}
