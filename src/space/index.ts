import type { FastifyPluginAsync } from 'fastify';
import { secretsEqual } from '../core/auth/api-keys.js';
import type { AppContext } from '../core/context.js';
import { badRequest, forbidden, notFound } from '../core/errors.js';
import { checkJson, notUtf8, utf8Text } from '../core/input-guard.js';
import { declareSecurity } from '../core/openapi.js';
import type { SpaceKysely } from './db.js';
import { spaceHandler } from './handler.js';
import { plainTextErrorHandler } from './plain-text.js';
import { registerRoutes } from './routes.js';

/** Documents carry base64 images: allow more than the server-wide JSON limit. */
const BODY_LIMIT = 16 * 1024 * 1024;

/**
 * Dreamspace Adventures, reproducing the original server's documented behaviour: every success is a
 * 200 with JSON, errors are plain text, a bad or missing X-API-KEY is a 403.
 */
export const spacePlugin: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  const token = ctx.config.space.apiToken;
  const db = ctx.database.db as SpaceKysely;

  app.setErrorHandler(plainTextErrorHandler);
  // (At `/` the app's own not-found handler stays: Fastify allows one per prefix.)
  if (app.prefix !== '') {
    app.setNotFoundHandler((request) => {
      throw notFound(`No route ${request.method} ${request.url.split('?')[0]}.`);
    });
  }
  app.addHook('onRequest', async (request) => {
    const given = request.headers['x-api-key'];
    if (typeof given !== 'string' || !secretsEqual(given, token)) throw forbidden('Missing or wrong X-API-KEY.');
  });

  // The handler validates bodies and filters itself (with the same TypeBox schemas, see validate.ts),
  // because deep paths reach it through a catch-all route; the route schemas only document the API.
  app.setValidatorCompiler(() => () => true);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  // Any content type is read as JSON, and an empty body is no body: Godot and aiohttp clients send
  // `Content-Type: application/json` with nothing on GET and DELETE. The bytes must be UTF-8.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_request, body: Buffer, done) => {
    const text = utf8Text(body);
    if (text === undefined) return done(badRequest(notUtf8().message));
    if (text.trim() === '') return done(null, undefined);
    // Depth and NUL checks are the core's (one rule for the three APIs); only the parse error is worded here.
    const { value, error } = checkJson(text, (t) => {
      try {
        return JSON.parse(t) as unknown;
      } catch (err) {
        throw badRequest(`Malformed JSON body: ${(err as Error).message}`);
      }
    });
    done(error ?? null, value);
  });

  declareSecurity(app, 'spaceApiKey');
  registerRoutes(app, spaceHandler(db, app.prefix), app.prefix !== '');
};
