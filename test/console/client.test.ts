import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'dreamlake/client';
import { currentOpenApi, schemaTypes } from '../../src/console/openapi-types.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

describe('the typed client (dreamlake/client)', () => {
  it('is generated from the current routes: run `npm run gen:client` after changing a route schema', async () => {
    const checkedIn = readFileSync(new URL('../../client/schema.d.ts', import.meta.url), 'utf8');
    const fresh = await schemaTypes(await currentOpenApi());
    expect(fresh === checkedIn, 'client/schema.d.ts is stale: run `npm run gen:client` and commit it').toBe(true);
  }, 60_000);

  describe('against a running server', () => {
    let t: TestApp;
    let baseUrl: string;
    beforeAll(async () => {
      t = await createTestApp('sqlite');
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      const address = t.app.server.address();
      baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    });
    afterAll(() => t.close());

    it('calls DreamLake with types from the OpenAPI document', async () => {
      const client = createClient({ baseUrl, headers: await t.auth('sdk-user') });
      const me = await client.GET('/auth/me');
      expect(me.response.status).toBe(200);
      expect(me.data?.username).toBe('sdk-user');
      const created = await client.POST('/namespaces/{slug}/projects', { params: { path: { slug: 'sdk-user' } }, body: { name: 'From the SDK' } });
      expect(created.response.status).toBe(201);
      expect(created.data?.slug).toBe('from-the-sdk');
      const missing = await client.GET('/namespaces/{slug}', { params: { path: { slug: 'nobody-here' } } });
      expect(missing.response.status).toBe(404);
      expect(missing.error).toMatchObject({ error: 'not_found' });
    });
  });
});
