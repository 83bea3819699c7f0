import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema } from 'fastify';

/** One more answer of a route, for the API reference only (never used to validate or serialize). */
export interface DocResponse {
  description: string;
  /** Media type of the body; none for an answer without a body (304, 204). */
  contentType?: string;
  /** JSON schema of the body; a string by default. */
  schema?: unknown;
}

declare module 'fastify' {
  interface FastifySchema {
    /** API reference only: more answers of the route, by status (what the route schema cannot say). */
    docResponses?: Record<number, DocResponse>;
    /** API reference only: the request body is raw bytes of any media type; the text describes it. */
    docBinaryBody?: string;
    /** API reference only: the route accepts no body at all as an empty one (the generator marks every body required). */
    docOptionalBody?: boolean;
  }
}

/** What every status means, for answers whose schema does not say it better. */
export const STATUS_DESCRIPTIONS: Record<string, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'Done; no body',
  206: 'Partial content: the requested byte range',
  304: 'Not modified: the ETag in If-None-Match is current',
  400: 'Bad request: the message says which field or value is wrong; nothing was changed',
  401: 'Unauthorized: no credentials, or invalid or expired ones',
  403: 'Forbidden: the caller may see this but not do that',
  404: 'Not found (also what a caller who may not see it gets)',
  405: 'Method not allowed on this path (see the Allow header)',
  409: 'Conflict: a name is taken, a revision is stale, or the target is in use',
  412: 'Precondition failed: If-Match or If-None-Match did not hold',
  413: 'Payload too large',
  415: 'Unsupported media type',
  416: 'Range not satisfiable (Content-Range says the size)',
  429: 'Too many requests: retry after the Retry-After header (seconds)',
  500: 'Internal error',
  503: 'Service unavailable: retry later',
};

const INTRO = `One server for three HTTP APIs. Choose **Authorize** above and fill in the credentials of the API you want to try.

- **DreamLake** (mounted at \`/\` by default): \`Authorization: Bearer <JWT>\`. On the server machine, \`npx dreamlake token <username>\`
  prints a token for that user (run it with the same \`--data\`/\`--config\` as the server; \`--days N\` sets its lifetime,
  30 days by default). The user and their personal namespace are created by their first request (\`GET /auth/me\`).
  With an external identity provider (\`[auth] jwks_url\`), use the token it issues.
- **Dreamscript database** (\`/dreamscript\`): \`X-API-Key: <key>\`. \`npx dreamlake keys create --name <name>\` prints a new key
  once (add \`--admin\` for a key that may manage keys, \`--read-only\`, or \`--projects 1,2\`); \`npx dreamlake keys list\` and
  \`npx dreamlake keys revoke <id>\` manage them, as does \`/dreamscript/keys\` for an admin key.
- **Dreamspace Adventures** (\`/dreamspace\`): \`X-API-KEY: <token>\`, the server's \`[API] APITOKEN\` (or \`DREAMSPACE_APITOKEN\`);
  the default, \`SecureToken\`, is for testing only.

DreamLake and Dreamscript errors are JSON \`{"error": "<code>", "message": "<text>"}\`; Dreamspace errors are plain text.
On every API a method that a path does not have is a **405** whose \`Allow\` header lists the ones it has; a path
that does not exist is a **404**.
The README and \`docs/\` of the repository walk through each API with curl.`;

const TAGS = [
  {
    name: 'Dreamspace',
    description: `The game backend of the live stream. As the original server did: every success is **200** (creations included),
a created object comes back whole, \`DELETE\` answers the object as it was, and errors are **plain text**:
**400** (malformed JSON, a wrong type, an unknown or read-only field or filter, a body naming an object that does not
exist; nothing is stored), **403** (missing or wrong \`X-API-KEY\`), **404** (the path names an object that does not
exist, e.g. \`Event 3 has no user.\`), **405** (a method the path does not support, with \`Allow\`), **413** (a body over 16 MiB).

**Nested paths.** Relations are paths and nest to any depth: each to-one relation names one object, each to-many
relation a list, and the path then supports the methods of that object or list. Listed here are the paths up to two
relations deep (\`/dreamspace/events/{id}/document/stamps\`); deeper ones work the same, e.g.
\`GET /dreamspace/events/1/user/specimen/owner\` (the owner of the current specimen of the user of event 1), and so does
the singular of a model at the top of a path (\`/dreamspace/document/1/stamps\`, as the original documents write it).
Relations: user → \`transactions\`, \`specimens\`, \`events\` (lists), \`specimen\` (the current one); transaction → \`user\`;
specimen → \`owner\`; event → \`user\`, \`document\`; document → \`stamps\` (list); stamp → \`document\`. In a list under a
parent, the path's value wins over the same filter in the query; in a body, a different value is a 400.`,
  },
];

/** OpenAPI 3.1 generated from the route schemas, served at /openapi.json, with a browsable page at /docs. */
export async function registerOpenApi(app: FastifyInstance) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'DreamLake', version: '0.1.0', description: INTRO },
      tags: TAGS,
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A DreamLake token: `npx dreamlake token <username>`' },
          scriptApiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'A Dreamscript key: `npx dreamlake keys create --name <name>`' },
          spaceApiKey: { type: 'apiKey', in: 'header', name: 'X-API-KEY', description: "The Dreamspace token: the server's `[API] APITOKEN`" },
        },
      },
    },
    transform: ({ schema, url }) => documentRoute(schema, url),
    transformObject: (documentObject) =>
      describeOperations(('openapiObject' in documentObject ? documentObject.openapiObject : documentObject.swaggerObject) as OpenApiDocument) as object,
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    // Swagger UI sets style attributes from its scripts, which `style-src 'self'` blocks (a CSP error in every
    // browser console); inline styles run no code, and scripts stay 'self' only.
    transformStaticCSP: (header) => header.replace(/style-src ([^;]*)/, (directive) => (directive.includes("'unsafe-inline'") ? directive : `${directive} 'unsafe-inline'`)),
    theme: {
    title: 'DreamLake',
    // The generic top bar (a Swagger logo and a box to load other documents) says nothing about this server.
    css: [{ filename: 'dreamlake.css', content: '.swagger-ui .topbar { display: none }' }],
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

const WILDCARD_DESCRIPTION =
  'The rest of the URL path: folders and name, e.g. camera/front/clip.mp4 (this page percent-encodes "/", which the ' +
  'server refuses inside a name: try it here with a plain name such as clip.mp4, or use curl for folders)';

/** The route as the API reference shows it: extra answers, binary bodies, a named wildcard. */
function documentRoute(schema: FastifySchema, url: string): { schema: FastifySchema; url: string } {
  // Routes registered as "/" under a prefix would otherwise be documented with a trailing slash.
  let docUrl = url.length > 1 ? url.replace(/\/$/, '') : url;
  if (!schema) return { schema, url: docUrl };
  const { docResponses, docBinaryBody, docOptionalBody, ...doc } = schema as Record<string, unknown> & {
    docResponses?: Record<number, DocResponse>;
    docBinaryBody?: string;
    docOptionalBody?: boolean;
  };
  // Keys starting with x- reach the operation; describeOperations turns this one into requestBody.required: false.
  if (docOptionalBody) doc[OPTIONAL_BODY] = true;

  // `/files/*` → `/files/{path}`: a named parameter that the page can fill in.
  const params = doc.params as { properties?: Record<string, unknown>; required?: string[] } | undefined;
  if (docUrl.endsWith('/*') && params?.properties?.['*']) {
    docUrl = `${docUrl.slice(0, -1)}:path`;
    const { '*': wildcard, ...rest } = params.properties;
    doc.params = {
      ...params,
      properties: { ...rest, path: { ...(wildcard as object), description: WILDCARD_DESCRIPTION } },
      required: (params.required ?? []).map((name) => (name === '*' ? 'path' : name)),
    };
  }

  if (docBinaryBody) {
    doc.body = { type: 'string', format: 'binary', contentMediaType: 'application/octet-stream', description: docBinaryBody };
    doc.consumes = ['application/octet-stream'];
  }

  if (docResponses) {
    const response: Record<string, unknown> = { ...((doc.response as Record<string, unknown>) ?? {}) };
    for (const [status, r] of Object.entries(docResponses)) {
      response[status] = r.contentType
        ? { description: r.description, content: { [r.contentType]: { schema: r.schema ?? { type: 'string' } } } }
        : { description: r.description, type: 'null' };
    }
    doc.response = response;
  }
  return { schema: doc as FastifySchema, url: docUrl };
}

const OPTIONAL_BODY = 'x-optional-body';

interface OpenApiOperation {
  responses?: Record<string, { description?: string }>;
  requestBody?: { required?: boolean };
  [OPTIONAL_BODY]?: boolean;
}

interface OpenApiDocument {
  paths?: Record<string, Record<string, OpenApiOperation>>;
}

/** Every answer gets a description (the generator's placeholder "Default Response" is replaced by what the status means); optional bodies say so. */
function describeOperations(document: OpenApiDocument) {
  for (const operations of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(operations)) {
      if (typeof operation !== 'object' || !operation) continue;
      if (operation[OPTIONAL_BODY]) {
        delete operation[OPTIONAL_BODY];
        if (operation.requestBody) operation.requestBody.required = false;
      }
      if (!operation.responses) continue;
      for (const [status, response] of Object.entries(operation.responses)) {
        if (!response.description || response.description === 'Default Response') {
          response.description = STATUS_DESCRIPTIONS[status] ?? `HTTP ${status}`;
        }
      }
    }
  }
  return document;
}

/** Adds `security` to every route registered after it in this plugin, so the OpenAPI tells the truth. */
export function declareSecurity(app: FastifyInstance, scheme: 'bearerAuth' | 'scriptApiKey' | 'spaceApiKey') {
  app.addHook('onRoute', (route) => {
    if ((route.config as { signedUrl?: boolean } | undefined)?.signedUrl) return; // the signature in the URL is the credential
    route.schema = { ...(route.schema ?? {}), security: [{ [scheme]: [] }] };
  });
}
