import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../src/core/auth/jwt.js';
import { DIALECTS, TEST_JWT_SECRET } from '../helpers/app.js';
import { createScriptTestApp, type ScriptTestApp } from '../script/helpers.js';

// A lookup that finds nothing answers "missing"; a lookup that fails is an error, never mistaken for "missing".
// The failure is made real by renaming the table the lookup reads, after the data is in place.
describe.each(DIALECTS)('a failing database read is not an absent row (%s)', (dialect) => {
  let t: ScriptTestApp;
  let key: string;
  const bearer = async () => ({ authorization: `Bearer ${await signToken(TEST_JWT_SECRET, 'alice', 1)}` });
  beforeAll(async () => {
    t = await createScriptTestApp(dialect, { DREAMSCRIPT_RATE_LIMIT: '0' });
    key = await t.key();
  });
  afterAll(async () => t.close());

  const couch = (method: string, url: string, payload?: unknown) =>
    t.app.inject({ method: method as 'GET', url: `/dreamscript/couch${url}`, headers: { 'x-api-key': key, 'content-type': 'application/json' }, ...(payload !== undefined && { payload: JSON.stringify(payload) }) });

  it('GET /auth/me: a failing namespace lookup is a 500, not a user without a namespace', async () => {
    const me = await t.app.inject({ method: 'GET', url: '/auth/me', headers: await bearer() });
    expect(me.json().namespace).toMatchObject({ slug: 'alice' });
    await sql`alter table namespace_members rename to namespace_members_away`.execute(t.db);
    try {
      const broken = await t.app.inject({ method: 'GET', url: '/auth/me', headers: await bearer() });
      expect(broken.statusCode).toBe(500); // was a 200 with "namespace": null
    } finally {
      await sql`alter table namespace_members_away rename to namespace_members`.execute(t.db);
    }
  });

  it('an attachment of an older revision: unknown revision 404, failing read 500', async () => {
    expect((await couch('PUT', '/fail')).statusCode).toBe(201);
    const data = Buffer.from('v1').toString('base64');
    const first = (await couch('PUT', '/fail/doc', { _attachments: { 'a.txt': { content_type: 'text/plain', data } } })).json();
    await couch('PUT', '/fail/doc', { _rev: first.rev, _attachments: { 'a.txt': { content_type: 'text/plain', data: Buffer.from('v2').toString('base64') } } });
    expect((await couch('GET', `/fail/doc/a.txt?rev=${first.rev}`)).body).toBe('v1');
    expect((await couch('GET', '/fail/doc/a.txt?rev=1-0123456789abcdef0123456789abcdef')).statusCode).toBe(404);
    await sql`alter table script_revisions rename to script_revisions_away`.execute(t.db);
    try {
      expect((await couch('GET', `/fail/doc/a.txt?rev=${first.rev}`)).statusCode).toBe(500); // was a 404
    } finally {
      await sql`alter table script_revisions_away rename to script_revisions`.execute(t.db);
    }
  });
});
