import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import find from 'pouchdb-find';
import { listen, PouchDB, remoteDb, type Pouch } from './couch-helpers.js';
import { createScriptTestApp, DIALECTS, type ScriptTestApp } from './helpers.js';

// Mango queries with the real pouchdb-find plugin against the server: db.find, createIndex, getIndexes,
// deleteIndex, explain (POST /{db}/_find, /{db}/_index, /{db}/_explain), as a PouchDB app queries its remote.
PouchDB.plugin(find);

const CITIES = ['Oslo', 'Lima', 'Pune'];
const people = Array.from({ length: 30 }, (_, i) => ({
  _id: `p${String(i).padStart(2, '0')}`,
  name: `person ${i}`,
  age: i % 10,
  address: { city: CITIES[i % 3], zip: String(1000 + i) },
  ...(i % 5 === 0 && { vip: true }),
}));
const ids = (docs: { _id: string }[]) => docs.map((d) => d._id);

describe.each(DIALECTS)('Mango queries with pouchdb-find (%s)', (dialect) => {
  let t: ScriptTestApp;
  let base: string;
  let db: Pouch;
  let reader: Pouch;
  let key: string;
  beforeAll(async () => {
    t = await createScriptTestApp(dialect, { DREAMSCRIPT_RATE_LIMIT: '0' });
    base = await listen(t.app);
    key = await t.key();
    db = remoteDb(base, 'people', key);
    await db.info(); // creates the database
    await db.bulkDocs([...people, { _id: '_design/js', language: 'javascript', views: { v: { map: 'function (doc) { emit(doc.age); }' } } }]);
    reader = remoteDb(base, 'people', await t.key({ admin: false, readOnly: true }));
  });
  afterAll(async () => {
    t.app.server.closeAllConnections();
    await t.close();
  });

  it('finds without an index: _id order, limit, skip, bookmark paging, fields, and the missing-index warning', async () => {
    const old = await db.find({ selector: { age: { $gte: 8 } } });
    expect(ids(old.docs)).toEqual(['p08', 'p09', 'p18', 'p19', 'p28', 'p29']);
    expect(old.docs[0]).toMatchObject({ _id: 'p08', _rev: expect.stringMatching(/^1-/), name: 'person 8', address: { city: 'Pune' } });
    expect(old.warning).toBe('No matching index found, create an index to optimize query time.');
    expect(ids((await db.find({ selector: { age: { $gte: 8 } }, limit: 2, skip: 1 })).docs)).toEqual(['p09', 'p18']);
    const first = await db.find({ selector: { 'address.city': 'Oslo' }, limit: 4 });
    expect(ids(first.docs)).toEqual(['p00', 'p03', 'p06', 'p09']);
    const next = await db.find({ selector: { 'address.city': 'Oslo' }, limit: 4, bookmark: first.bookmark });
    expect(ids(next.docs)).toEqual(['p12', 'p15', 'p18', 'p21']);
    const slim = await db.find({ selector: { vip: true, $or: [{ age: 0 }, { 'address.city': 'Pune' }] }, fields: ['_id', 'address.city'] });
    expect(slim.docs).toEqual([
      { _id: 'p00', address: { city: 'Oslo' } },
      { _id: 'p05', address: { city: 'Pune' } },
      { _id: 'p10', address: { city: 'Lima' } },
      { _id: 'p20', address: { city: 'Pune' } },
    ]);
    // Design documents are never results.
    expect((await db.find({ selector: { _id: { $gt: null } }, limit: 100 })).docs).toHaveLength(30);
  });

  it('sorts by an index, refuses a sort without one, and keeps indexes as replicated design documents', async () => {
    await expect(db.find({ selector: { age: { $gt: null } }, sort: ['age'] })).rejects.toMatchObject({ status: 400, error: 'no_usable_index' });
    await expect(db.find({ selector: {}, sort: [{ age: 'asc' }, { name: 'desc' }] })).rejects.toMatchObject({ status: 400, error: 'unsupported_mixed_sort' });
    expect(await db.createIndex({ index: { fields: ['age'] }, ddoc: 'by-age', name: 'age' })).toEqual({ result: 'created', id: '_design/by-age', name: 'age' });
    expect(await db.createIndex({ index: { fields: ['age'] }, ddoc: 'by-age', name: 'age' })).toEqual({ result: 'exists', id: '_design/by-age', name: 'age' });
    const { indexes } = await db.getIndexes();
    expect(indexes).toEqual([
      { ddoc: null, name: '_all_docs', type: 'special', def: { fields: [{ _id: 'asc' }] } },
      { ddoc: '_design/by-age', name: 'age', type: 'json', def: { fields: [{ age: 'asc' }] } },
    ]);
    expect(await db.get('_design/by-age')).toMatchObject({ language: 'query', views: { age: { map: { fields: { age: 'asc' } }, options: { def: { fields: [{ age: 'asc' }] } } } } });

    const desc = await db.find({ selector: { age: { $gte: 7 } }, sort: [{ age: 'desc' }], limit: 5 });
    expect(ids(desc.docs)).toEqual(['p29', 'p19', 'p09', 'p28', 'p18']);
    expect(desc.warning).toBeUndefined();
    // Without a sort, the planner picks the index the selector covers: index order (age, then _id).
    const byAge = await db.find({ selector: { age: { $lt: 2 } } });
    expect(ids(byAge.docs)).toEqual(['p00', 'p10', 'p20', 'p01', 'p11', 'p21']);
    const explained = await db.explain({ selector: { age: { $lt: 2 } } });
    expect(explained.index).toMatchObject({ ddoc: '_design/by-age', name: 'age', type: 'json' });

    // A partial index sees only the documents its filter matches (names sort as strings: "person 5" last).
    await db.createIndex({ index: { fields: ['name'], partial_filter_selector: { vip: true } }, ddoc: 'vips', name: 'name' });
    const vips = await db.find({ selector: { name: { $gt: null } }, sort: ['name'], use_index: ['vips', 'name'] });
    expect(ids(vips.docs)).toEqual(['p00', 'p10', 'p15', 'p20', 'p25', 'p05']);

    expect(await db.deleteIndex({ ddoc: '_design/vips', name: 'name' })).toEqual({ ok: true });
    expect((await db.getIndexes()).indexes.map((i: { name: string }) => i.name)).toEqual(['_all_docs', 'age']);
    await expect(db.get('_design/vips')).rejects.toMatchObject({ status: 404 });
    await expect(db.deleteIndex({ ddoc: '_design/vips', name: 'name' })).rejects.toMatchObject({ status: 404 });
  });

  it('a read-only key queries but may not make indexes; bad queries are 400s that change nothing', async () => {
    expect(ids((await reader.find({ selector: { age: 3, 'address.city': 'Oslo' } })).docs)).toEqual(['p03']);
    await expect(reader.createIndex({ index: { fields: ['name'] } })).rejects.toMatchObject({ status: 403 });
    await expect(db.find({ selector: { age: { $bogus: 1 } } })).rejects.toMatchObject({ status: 400 });
    const raw = await fetch(`${base}/dreamscript/couch/people/_find`, { method: 'POST', headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: '{"limit": 3}' });
    expect(raw.status).toBe(400);
    expect(await raw.json()).toEqual({ error: 'missing_required_key', reason: 'Missing required key: selector' });
    await expect(db.find({ selector: { age: 1 }, limit: -1 })).rejects.toMatchObject({ status: 400 });
    await expect(db.find({ selector: { age: 1 }, bookmark: 'not-a-bookmark' })).rejects.toMatchObject({ status: 400 });
    await expect(db.createIndex({ index: { fields: [] } })).rejects.toMatchObject({ status: 400 });
    expect((await db.getIndexes()).indexes.map((i: { name: string }) => i.name)).toEqual(['_all_docs', 'age']);
  });

  it('answers _conflicts and execution statistics when asked', async () => {
    await db.bulkDocs([{ _id: 'c1', age: 42, _rev: '2-aaaa' }, { _id: 'c1', age: 42, _rev: '2-bbbb' }], { new_edits: false });
    const found = await db.find({ selector: { age: 42 }, conflicts: true, execution_stats: true });
    expect(found.docs).toEqual([expect.objectContaining({ _id: 'c1', _rev: '2-bbbb', _conflicts: ['2-aaaa'] })]);
    expect(found.execution_stats).toMatchObject({ results_returned: 1, total_docs_examined: expect.any(Number) });
  });
  it('makes concurrent indexes in one design document without losing any (a lost race is retried)', async () => {
    const made = await Promise.all(['a1', 'a2', 'a3', 'a4', 'a5', 'a6'].map((name) => db.createIndex({ index: { fields: [name] }, ddoc: 'many', name })));
    expect(made.map((m: { result: string }) => m.result)).toEqual(Array(6).fill('created'));
    const views = Object.keys((await db.get('_design/many')).views).sort();
    expect(views).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'a6']);
    await Promise.all(views.map((name) => db.deleteIndex({ ddoc: 'many', name })));
    await expect(db.get('_design/many')).rejects.toMatchObject({ status: 404 });
  });
  it('reads only the _id range a selector allows, and keeps every document the selector would (non-ASCII bounds too)', async () => {
    const all = ['other', 'pos', 'post:1', 'post:2', 'post:é', 'post:😀', 'post:\uffff', 'postz', 'a'.repeat(3), 'Zed'];
    const idsDb = remoteDb(base, 'ids', key);
    await idsDb.info();
    await idsDb.bulkDocs(all.map((_id) => ({ _id, kind: 'x' })));
    const byteOrder = (list: string[]) => [...list].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const cases: [Record<string, unknown>, (id: string) => boolean][] = [
      [{ _id: { $gte: 'post:', $lt: 'post:\uffff' } }, (id) => id >= 'post:' && id < 'post:\uffff'],
      [{ _id: { $gt: 'post:1', $lte: 'post:2' } }, (id) => id > 'post:1' && id <= 'post:2'],
      [{ _id: 'other' }, (id) => id === 'other'],
      [{ _id: { $gte: 'post:é' } }, (id) => id >= 'post:é'],
      [{ _id: { $lt: 'post:😀' } }, (id) => id < 'post:😀'],
      [{ $and: [{ _id: { $gt: 'pos' } }, { _id: { $lt: 'postz' } }], kind: 'x' }, (id) => id > 'pos' && id < 'postz'],
    ];
    for (const [selector, keep] of cases) {
      const found = await idsDb.find({ selector, limit: 100, execution_stats: true });
      expect(ids(found.docs), JSON.stringify(selector)).toEqual(byteOrder(all.filter(keep)));
    }
    // The range is read, not the database (10 documents): one examined for an _id equality, two for an ASCII range,
    // and for the prefix query only the five "post:…" ones (its "\uffff" bound widened to just past "post:").
    const examined = async (selector: Record<string, unknown>) => (await idsDb.find({ selector, execution_stats: true })).execution_stats.total_docs_examined;
    expect(await examined({ _id: 'post:2' })).toBe(1);
    expect(await examined({ _id: { $gte: 'post:1', $lte: 'post:2' } })).toBe(2);
    expect(await examined({ _id: { $gte: 'post:', $lt: 'post:\uffff' } })).toBe(5);
  });
});
