import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

/** OpenAPI 3.1 generated from the route schemas, served at /openapi.json, with a browsable page at /docs. */
export async function registerOpenApi(app: FastifyInstance) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'DreamLake',
        version: '0.1.0',
        description: 'DreamLake, the Dreamscript database and Dreamspace Adventures APIs, served by one process.',
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          scriptApiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
          spaceApiKey: { type: 'apiKey', in: 'header', name: 'X-API-KEY' },
        },
      },
    },
    // Routes registered as "/" under a prefix would otherwise be documented with a trailing slash.
    transform: ({ schema, url }) => ({ schema, url: url.length > 1 ? url.replace(/\/$/, '') : url }),
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

/** Adds `security` to every route registered after it in this plugin, so the OpenAPI tells the truth. */
export function declareSecurity(app: FastifyInstance, scheme: 'bearerAuth' | 'scriptApiKey' | 'spaceApiKey') {
  app.addHook('onRoute', (route) => {
    if ((route.config as { signedUrl?: boolean } | undefined)?.signedUrl) return; // the signature in the URL is the credential
    route.schema = { ...(route.schema ?? {}), security: [{ [scheme]: [] }] };
  });
}
