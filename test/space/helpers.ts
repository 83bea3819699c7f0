import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { DialectName } from '../../src/core/db/database.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

export const KEY = 'test-space-key';
export const IMAGE = Buffer.from('\x89PNG fake image bytes for the tests').toString('base64');

export interface Answer {
  status: number;
  /** Parsed JSON for 200s, the plain text otherwise. */
  body: any;
  text: string;
  headers: Record<string, unknown>;
}

export interface SpaceTest {
  t: TestApp;
  /** A request to the Dreamspace mount with the right key, JSON in and out, like the clients send it. */
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Answer>;
  /** How many objects of each model are stored (read through the lists). */
  counts(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

/** SpaceTest's `api` for any app serving Dreamspace with KEY (a peer on the same database too). */
export function apiOf(app: { inject(options: InjectOptions): Promise<LightMyRequestResponse> }): SpaceTest['api'] {
  return async (method, path, body, headers = {}) => {
    const res = await app.inject({
      method: method as 'GET',
      url: `/dreamspace${path}`,
      headers: { 'x-api-key': KEY, 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const json = res.statusCode === 200 && String(res.headers['content-type']).startsWith('application/json');
    return { status: res.statusCode, body: json ? res.json() : res.body, text: res.body, headers: res.headers };
  };
}

export async function spaceApp(dialect: DialectName, env: NodeJS.ProcessEnv = {}): Promise<SpaceTest> {
  const t = await createTestApp(dialect, { DREAMSPACE_APITOKEN: KEY, ...env });
  const api = apiOf(t);
  return {
    t,
    api,
    async counts() {
      const out: Record<string, number> = {};
      for (const model of ['users', 'transactions', 'specimens', 'events', 'documents', 'stamps']) {
        const res = await api('GET', `/${model}`);
        if (res.status !== 200) throw new Error(`GET /${model}: ${res.status} ${res.text}`);
        out[model] = res.body.length;
      }
      return out;
    },
    close: () => t.close(),
  };
}

/** Asserts a 200 and returns the JSON, with the failure's text in the error otherwise. */
export function ok(answer: Answer): any {
  if (answer.status !== 200) throw new Error(`expected 200, got ${answer.status}: ${answer.text}`);
  return answer.body;
}

export const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?[+-]\d{2}:\d{2}$/;
