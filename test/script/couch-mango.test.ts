import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileSelector } from '../../src/script/couch/mango.js';
import { createScriptTestApp, DIALECTS, type ScriptTestApp } from './helpers.js';

const docs = [
  { _id: 'p1', type: 'post', n: 1, tags: ['a', 'b'], author: { name: 'Ann', age: 30 } },
  { _id: 'p2', type: 'post', n: 5, tags: [], author: { name: 'Bob' } },
  { _id: 'c1', type: 'comment', n: 3, tags: ['b'], text: 'Hello world' },
  { _id: 'u1', name: 'Ann', n: -7 },
];
const select = (selector: unknown) => {
  const match = compileSelector(selector);
  return docs.filter((d) => match(d)).map((d) => d._id);
};
const refusal = (selector: unknown) => {
  try {
    compileSelector(selector);
  } catch (err) {
    return { status: (err as { status?: number }).status, message: (err as Error).message };
  }
  return null;
};

describe('Mango selectors (filter=_selector)', () => {
  it('match with every operator CouchDB defines for them', () => {
    expect(select({ type: 'post' })).toEqual(['p1', 'p2']);
    expect(select({ 'author.name': 'Ann' })).toEqual(['p1']);
    expect(select({ author: { name: 'Bob' } })).toEqual(['p2']); // nested fields, implicitly
    expect(select({ n: { $gt: 1, $lte: 5 } })).toEqual(['p2', 'c1']);
    expect(select({ n: { $ne: 1 } })).toEqual(['p2', 'c1', 'u1']);
    expect(select({ tags: { $in: ['b'] } })).toEqual(['p1', 'c1']);
    expect(select({ type: { $nin: ['post'] } })).toEqual(['c1']);
    expect(select({ tags: { $all: ['a', 'b'] } })).toEqual(['p1']);
    expect(select({ tags: { $size: 0 } })).toEqual(['p2']);
    expect(select({ tags: { $elemMatch: { $eq: 'b' } } })).toEqual(['p1', 'c1']);
    expect(select({ tags: { $allMatch: { $in: ['a', 'b'] } } })).toEqual(['p1', 'c1']);
    expect(select({ author: { $type: 'object' }, 'author.age': { $exists: false } })).toEqual(['p2']);
    expect(select({ n: { $mod: [2, 1] } })).toEqual(['p1', 'p2', 'c1']);
    expect(select({ n: { $mod: [2, -1] } })).toEqual(['u1']); // the sign of the dividend, as Erlang's rem
    expect(select({ text: { $regex: 'wor' } })).toEqual(['c1']);
    expect(select({ $or: [{ type: 'comment' }, { name: { $regex: '^A' } }] })).toEqual(['c1', 'u1']);
    expect(select({ $nor: [{ type: 'post' }, { n: { $lt: 0 } }] })).toEqual(['c1']);
    expect(select({ $and: [{ type: 'post' }, { $not: { n: 1 } }] })).toEqual(['p2']);
    expect(select({ n: { $not: { $gt: 0 } } })).toEqual(['u1']);
    expect(select({})).toEqual(['p1', 'p2', 'c1', 'u1']);
  });

  it('refuses a bad operator or argument anywhere in the selector, even behind a clause that never matches', () => {
    const bad = [
      { $and: [{ nothing: 1 }, { n: { $mod: 5 } }] },
      { $or: [{ type: 'post' }, { tags: { $in: 'b' } }] },
      { $and: [{ nothing: 1 }, { n: { $mod: [0, 1] } }] },
      { n: { $exists: 'yes' } },
      { n: { $type: 'int' } },
      { tags: { $size: -1 } },
      { tags: { $elemMatch: 'b' } },
      { n: { $bogus: 1 } },
      { $where: 'this.n > 1' },
      { $or: { type: 'post' } },
      { text: { $regex: 7 } },
      { text: { $regex: '(' } },
      { text: { $regex: '(a)\\1' } }, // a backreference: RE2 has none
      { text: { $regex: '(?=a)' } }, // lookahead: RE2 has none
      { text: { $regex: 'a'.repeat(5000) } },
      [],
      'type',
    ];
    for (const selector of bad) {
      expect(refusal(selector), JSON.stringify(selector).slice(0, 80)).toMatchObject({ status: 400 });
    }
  });

  it('refuses selectors nested past a fixed depth instead of recursing without bound', () => {
    let deep: Record<string, unknown> = { n: 1 };
    for (let i = 0; i < 200; i++) deep = { $not: deep };
    expect(refusal(deep)).toMatchObject({ status: 400, message: expect.stringMatching(/nested deeper/) });
    let fields: unknown = 1;
    for (let i = 0; i < 200; i++) fields = { a: fields };
    expect(refusal(fields)).toMatchObject({ status: 400 });
  });

  it('runs $regex in linear time: a pattern that backtracks exponentially in a JS RegExp answers at once', () => {
    // In a child process, so that a regression (a backtracking engine) fails this test by its timeout
    // instead of stalling the test runner's own thread.
    const mango = fileURLToPath(new URL('../../src/script/couch/mango.ts', import.meta.url));
    const code = `
      const { compileSelector } = await import(${JSON.stringify(mango)});
      const match = compileSelector({ t: { $regex: '^(a+)+$' } });
      console.log(JSON.stringify([match({ t: 'a'.repeat(5000) + '!' }), match({ t: 'aaaa' })]));`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { timeout: 60_000, encoding: 'utf8' });
    expect(child.signal, child.stderr).toBeNull();
    expect(JSON.parse(child.stdout)).toEqual([false, true]);
  });
});

describe.each(DIALECTS)('filter=_selector over HTTP (%s)', (dialect) => {
  let t: ScriptTestApp;
  let key: string;
  beforeAll(async () => {
    t = await createScriptTestApp(dialect, { DREAMSCRIPT_RATE_LIMIT: '0' });
    key = await t.key();
  });
  afterAll(async () => t.close());

  const couch = (method: string, url: string, payload?: unknown) => t.couch(key, method, url, payload);

  it('filters the feed, and answers a selector that is bad only in a later clause with a 400 in CouchDB shape', async () => {
    await couch('PUT', '/mango');
    expect((await couch('POST', '/mango/_bulk_docs', { docs })).statusCode).toBe(201);
    const feed = await couch('POST', '/mango/_changes?filter=_selector', { selector: { $or: [{ 'author.name': 'Bob' }, { text: { $regex: '^Hel' } }] } });
    expect(feed.json().results.map((r: { id: string }) => r.id)).toEqual(['p2', 'c1']);
    const bad = await couch('POST', '/mango/_changes?filter=_selector', { selector: { $and: [{ nothing: 1 }, { n: { $mod: 'x' } }] } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ error: 'bad_request', reason: expect.stringMatching(/\$mod/) });
    const regex = await couch('POST', '/mango/_changes?filter=_selector&feed=longpoll', { selector: { text: { $regex: '(?<=a)b' } } });
    expect(regex.statusCode).toBe(400);
  });

  it('filter=_design lists design documents only (an underscore in their prefix is not a LIKE wildcard)', async () => {
    await couch('PUT', '/designs');
    const written = await couch('POST', '/designs/_bulk_docs', {
      docs: [{ _id: '_design/app', views: {} }, { _id: 'xdesign/app' }, { _id: 'a_design/x' }, { _id: '_designer' }, { _id: '_design/b' }],
    });
    expect(written.statusCode).toBe(201);
    const feed = await couch('GET', '/designs/_changes?filter=_design');
    expect(feed.statusCode).toBe(200);
    expect(feed.json().results.map((r: { id: string }) => r.id)).toEqual(['_design/app', '_design/b']);
  });
});
