import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScriptTestApp, DIALECTS, type ScriptTestApp } from './helpers.js';

describe.each(DIALECTS)('Dreamscript list paging (%s)', (dialect) => {
  let t: ScriptTestApp;
  let key: string;
  beforeAll(async () => {
    t = await createScriptTestApp(dialect);
    key = await t.key();
  });
  afterAll(async () => t.close());

  const follow = (url: string) => t.app.inject({ method: 'GET', url, headers: { 'x-api-key': key } });
  const createDocument = async (title: string) =>
    (await t.call(key, { method: 'POST', url: '/documents', payload: { title } })).json().id as number;

  it('walks every document once, oldest first, even with inserts and deletes during the walk', async () => {
    const seeded: number[] = [];
    for (let i = 0; i < 7; i++) seeded.push(await createDocument(`seed ${i}`));

    const seen: number[] = [];
    const added: number[] = [];
    let url: string | undefined = '/dreamscript/documents?limit=3';
    let pages = 0;
    while (url) {
      const res = await follow(url);
      expect(res.statusCode).toBe(200);
      const page = res.json() as { id: number }[];
      expect(page.length).toBeLessThanOrEqual(3);
      seen.push(...page.map((d) => d.id));
      // Insert during the walk: the new rows belong at the end and must be reached exactly once.
      if (pages < 2) added.push(await createDocument(`added ${pages}`));
      pages++;
      url = res.headers['x-next'] as string | undefined;
      if (url) expect(url).toMatch(/^\/dreamscript\/documents\?limit=3&cursor=[^&]+$/);
    }
    expect(seen).toEqual([...seeded, ...added]);
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
  });

  it('has no x-next on the last page, nor when everything fits', async () => {
    const res = await t.call(key, { method: 'GET', url: '/documents?limit=1000' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-next']).toBeUndefined();
  });

  it('defaults to 50 per page', async () => {
    for (let i = 0; i < 45; i++) await createDocument(`bulk ${i}`);
    const res = await t.call(key, { method: 'GET', url: '/documents' });
    expect(res.json()).toHaveLength(50);
    expect(res.headers['x-next']).toMatch(/limit=50/);
  });

  it('x-next is opaque: a tampered cursor is a 400, and so is one from another list', async () => {
    const res = await t.call(key, { method: 'GET', url: '/documents?limit=2' });
    const next = new URL(res.headers['x-next'] as string, 'http://x');
    const cursor = next.searchParams.get('cursor')!;
    const [body, check] = cursor.split('.');
    const forged = Buffer.from(JSON.stringify({ k: 'documents', after: 0 })).toString('base64url');
    for (const bad of [`${forged}.${check}`, `${body}.AAAAAAAAAAAA`, 'garbage', `${body}`, `${cursor}.x`]) {
      const r = await t.call(key, { method: 'GET', url: `/documents?limit=2&cursor=${encodeURIComponent(bad)}` });
      expect(r.statusCode).toBe(400);
      expect(r.json()).toEqual({ error: 'invalid_cursor', message: 'Invalid cursor.' });
    }
    await t.call(key, { method: 'POST', url: '/projects', payload: { name: 'p1' } });
    await t.call(key, { method: 'POST', url: '/projects', payload: { name: 'p2' } });
    const other = await t.call(key, { method: 'GET', url: `/projects?limit=1&cursor=${encodeURIComponent(cursor)}` });
    expect(other.statusCode).toBe(400);
  });

  it.each(['0', 'abc', '100000', '-5', '2.5', ''])('limit=%s is a 400', async (limit) => {
    const res = await t.call(key, { method: 'GET', url: `/documents?limit=${limit}` });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('validation_error');
    expect(res.json().message).toMatch(/limit/);
  });

  it('an unknown query parameter is a 400', async () => {
    const res = await t.call(key, { method: 'GET', url: '/documents?offset=10' });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/offset/);
  });

  it('pages projects the same way, ids ascending', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push((await t.call(key, { method: 'POST', url: '/projects', payload: { name: `proj ${i}` } })).json().id);
    const seen: number[] = [];
    let url: string | undefined = '/dreamscript/projects?limit=2';
    while (url) {
      const res = await follow(url);
      seen.push(...res.json().map((p: { id: number }) => p.id));
      url = res.headers['x-next'] as string | undefined;
    }
    expect(seen.slice(-5)).toEqual(ids);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
  });
});
