import type { Client, ClientOptions } from 'openapi-fetch';
import type { paths } from './schema.js';

export type { components, operations, paths } from './schema.js';
export type { Client, ClientOptions, Middleware } from 'openapi-fetch';

/** A typed client for every route of the server: `client.GET('/namespaces/{slug}', { params: { path: { slug } } })`. */
export declare function createClient(options?: ClientOptions): Client<paths>;
export default createClient;
