// The DreamLake TypeScript SDK: openapi-fetch typed by the server's own OpenAPI document (see schema.d.ts).
import createFetchClient from 'openapi-fetch';

/** A typed client for every route of the server: `client.GET('/namespaces/{slug}', { params: { path: { slug } } })`. */
export function createClient(options = {}) {
  return createFetchClient(options);
}

export default createClient;
