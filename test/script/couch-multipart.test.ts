import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScriptTestApp, DIALECTS, type ScriptTestApp } from './helpers.js';

// What CouchDB's own replicator sends and reads beyond PouchDB's requests: revisions read as multipart/mixed
// (GET …?open_revs=… with Accept: multipart/mixed, attachments following the JSON, atts_since), documents with
// attachments pushed as multipart/related (PUT …?new_edits=false), the checkpointed sequence sent JSON-encoded.
// The bodies below are built and read byte by byte as RFC 2046 describes them, not with the server's parser.

const md5 = (b: Buffer | string) => `md5-${createHash('md5').update(b).digest('base64')}`;

interface WirePart {
  headers: Record<string, string>;
  body: Buffer;
}

/** Splits a multipart body on its boundary (from the Content-Type), checking the framing as it goes. */
function parts(contentType: string, body: Buffer): WirePart[] {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
  if (!boundary) throw new Error(`no boundary in ${contentType}`);
  const text = body.toString('latin1');
  expect(text.startsWith(`--${boundary}`)).toBe(true);
  expect(text.endsWith(`\r\n--${boundary}--`)).toBe(true);
  const chunks = text.slice(`--${boundary}`.length, -`\r\n--${boundary}--`.length).split(`\r\n--${boundary}`);
  return chunks.map((chunk) => {
    expect(chunk.startsWith('\r\n')).toBe(true);
    const end = chunk.indexOf('\r\n\r\n');
    const headers: Record<string, string> = {};
    for (const line of chunk.slice(2, end).split('\r\n').filter(Boolean)) {
      const [name, ...value] = line.split(':');
      headers[name.toLowerCase()] = value.join(':').trim();
    }
    return { headers, body: Buffer.from(chunk.slice(end + 4), 'latin1') };
  });
}

/** A multipart/related document body as CouchDB's replicator sends it. */
function related(doc: object, attachments: { name: string; type: string; data: Buffer }[], boundary = 'a1b2c3d4e5') {
  const chunks: Buffer[] = [Buffer.from(`--${boundary}\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(doc)}`)];
  for (const a of attachments) {
    chunks.push(Buffer.from(`\r\n--${boundary}\r\nContent-Disposition: attachment; filename="${a.name}"\r\nContent-Type: ${a.type}\r\nContent-Length: ${a.data.length}\r\n\r\n`), a.data);
  }
  chunks.push(Buffer.from(`\r\n--${boundary}--`));
  return { contentType: `multipart/related; boundary="${boundary}"`, body: Buffer.concat(chunks) };
}

describe.each(DIALECTS)('CouchDB replicator dialect: multipart bodies and JSON-encoded since (%s)', (dialect) => {
  let t: ScriptTestApp;
  let key: string;
  beforeAll(async () => {
    t = await createScriptTestApp(dialect, { DREAMSCRIPT_RATE_LIMIT: '0' });
    key = await t.key();
    for (const db of ['mpsource', 'mptarget']) expect((await couch('PUT', `/${db}`)).statusCode).toBe(201);
  });
  afterAll(async () => t.close());

  const couch = (method: string, url: string, payload?: unknown, headers?: Record<string, string>) => t.couch(key, method, url, payload, headers);

  const photo = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) % 256));
  const notes = Buffer.from('first notes\n');

  /** A document with one attachment at revision 1 and a second one added at revision 2. */
  async function twoRevisions(db: string, id: string) {
    const r1 = (await couch('PUT', `/${db}/${id}`, { title: id, _attachments: { 'notes.txt': { content_type: 'text/plain', data: notes.toString('base64') } } })).json().rev;
    const r2 = (await couch('PUT', `/${db}/${id}/photo.bin?rev=${r1}`, photo, { 'content-type': 'image/x-test' })).json().rev;
    return { r1, r2 };
  }

  it('answers open_revs as multipart/mixed: attachments follow the JSON, atts_since leaves known ones as stubs, missing revisions are error parts', async () => {
    const { r1, r2 } = await twoRevisions('mpsource', 'rover');
    const url = `/mpsource/rover?revs=true&latest=true&open_revs=${encodeURIComponent(JSON.stringify([r2, '9-deadbeef']))}&atts_since=${encodeURIComponent(JSON.stringify([r1]))}`;
    const res = await couch('GET', url, undefined, { accept: 'multipart/mixed' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^multipart\/mixed; boundary="[0-9a-f]+"$/);
    const outer = parts(String(res.headers['content-type']), res.rawPayload);
    expect(outer).toHaveLength(2);

    expect(outer[0].headers['content-type']).toMatch(/^multipart\/related; boundary="/);
    const inner = parts(outer[0].headers['content-type'], outer[0].body);
    expect(inner).toHaveLength(2);
    expect(inner[0].headers['content-type']).toBe('application/json');
    const doc = JSON.parse(inner[0].body.toString('utf8'));
    expect(doc).toMatchObject({ _id: 'rover', _rev: r2, title: 'rover', _revisions: { start: 2, ids: [r2.slice(2), r1.slice(2)] } });
    expect(doc._attachments['notes.txt']).toEqual({ content_type: 'text/plain', digest: md5(notes), length: notes.length, revpos: 1, stub: true });
    expect(doc._attachments['photo.bin']).toEqual({ content_type: 'image/x-test', digest: md5(photo), length: photo.length, revpos: 2, follows: true });
    expect(inner[1].headers).toEqual({ 'content-disposition': 'attachment; filename="photo.bin"', 'content-type': 'image/x-test', 'content-length': String(photo.length) });
    expect(inner[1].body.equals(photo)).toBe(true);

    expect(outer[1].headers['content-type']).toBe('application/json; error="true"');
    expect(JSON.parse(outer[1].body.toString())).toEqual({ missing: '9-deadbeef' });

    // Without atts_since every attachment follows, in the order the JSON lists them.
    const all = await couch('GET', `/mpsource/rover?revs=true&open_revs=all`, undefined, { accept: 'multipart/mixed' });
    const [only] = parts(String(all.headers['content-type']), all.rawPayload);
    const files = parts(only.headers['content-type'], only.body).slice(1);
    expect(files.map((f) => f.headers['content-disposition'])).toEqual(['attachment; filename="notes.txt"', 'attachment; filename="photo.bin"']);
    expect(files[0].body.equals(notes) && files[1].body.equals(photo)).toBe(true);

    // The same request asking for JSON is the JSON answer, attachments inline only since atts_since.
    const json = (await couch('GET', url)).json();
    expect(json[0].ok._attachments['photo.bin']).toEqual({ content_type: 'image/x-test', digest: md5(photo), revpos: 2, data: photo.toString('base64') });
    expect(json[0].ok._attachments['notes.txt'].stub).toBe(true);
    expect(json[1]).toEqual({ missing: '9-deadbeef' });
  });

  it('names possible_ancestors in _revs_diff (the leaves older than a missing revision), which the replicator sends back as atts_since', async () => {
    const { r1, r2 } = await twoRevisions('mpsource', 'ancestors');
    const diff = await couch('POST', '/mpsource/_revs_diff', { ancestors: [r1, r2, '3-cafe', '1-beef'], unknown: ['1-abc'] });
    expect(diff.json()).toEqual({ ancestors: { missing: ['3-cafe', '1-beef'], possible_ancestors: [r2] }, unknown: { missing: ['1-abc'] } });
    const older = await couch('POST', '/mpsource/_revs_diff', { ancestors: ['1-beef'] });
    expect(older.json()).toEqual({ ancestors: { missing: ['1-beef'] } });
  });

  it('sends a revision without attachments as a plain JSON part, and one document as multipart/related when asked', async () => {
    const rev = (await couch('PUT', '/mpsource/plain', { title: 'plain' })).json().rev;
    const res = await couch('GET', '/mpsource/plain?open_revs=all', undefined, { accept: 'multipart/mixed' });
    const [part] = parts(String(res.headers['content-type']), res.rawPayload);
    expect(part.headers['content-type']).toBe('application/json');
    expect(JSON.parse(part.body.toString())).toEqual({ _id: 'plain', _rev: rev, title: 'plain' });

    await twoRevisions('mpsource', 'single');
    const one = await couch('GET', '/mpsource/single?attachments=true', undefined, { accept: 'multipart/related' });
    expect(one.headers['content-type']).toMatch(/^multipart\/related; boundary="/);
    const [json, ...files] = parts(String(one.headers['content-type']), one.rawPayload);
    expect(JSON.parse(json.body.toString())._attachments['photo.bin'].follows).toBe(true);
    expect(files.map((f) => f.body.length)).toEqual([notes.length, photo.length]);
    // Without attachments=true the answer stays JSON with stubs, whatever the Accept header says.
    const stubs = await couch('GET', '/mpsource/single', undefined, { accept: 'multipart/related' });
    expect(stubs.json()._attachments['photo.bin'].stub).toBe(true);
  });

  it('takes a document with attachments as multipart/related with new_edits=false, a gzip-encoded one included', async () => {
    const text = Buffer.from('line of telemetry\n'.repeat(200));
    const gz = gzipSync(text);
    const doc = {
      _id: 'pushed',
      _rev: '2-bbbb',
      _revisions: { start: 2, ids: ['bbbb', 'aaaa'] },
      title: 'pushed',
      _attachments: {
        'photo.bin': { content_type: 'image/x-test', revpos: 1, digest: md5(photo), length: photo.length, follows: true },
        'log.txt': { content_type: 'text/plain', revpos: 2, digest: md5(text), length: text.length, follows: true, encoding: 'gzip', encoded_length: gz.length },
      },
    };
    const { contentType, body } = related(doc, [
      { name: 'photo.bin', type: 'image/x-test', data: photo },
      { name: 'log.txt', type: 'text/plain', data: gz },
    ]);
    const res = await couch('PUT', '/mptarget/pushed?new_edits=false', body, { 'content-type': contentType });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ ok: true, id: 'pushed', rev: '2-bbbb' });

    const stored = (await couch('GET', '/mptarget/pushed?revs=true')).json();
    expect(stored._revisions).toEqual({ start: 2, ids: ['bbbb', 'aaaa'] });
    expect(stored._attachments).toEqual({
      'photo.bin': { content_type: 'image/x-test', digest: md5(photo), length: photo.length, revpos: 1, stub: true },
      'log.txt': { content_type: 'text/plain', digest: md5(text), length: text.length, revpos: 2, stub: true },
    });
    const log = await couch('GET', '/mptarget/pushed/log.txt');
    expect(log.rawPayload.equals(text)).toBe(true);
    expect((await couch('GET', '/mptarget/pushed/photo.bin')).rawPayload.equals(photo)).toBe(true);
  });

  it('copies a document between databases the way CouchDB replicates it: multipart read from one, multipart written to the other', async () => {
    const { r2 } = await twoRevisions('mpsource', 'copied');
    const read = await couch('GET', `/mpsource/copied?revs=true&latest=true&open_revs=${encodeURIComponent(JSON.stringify([r2]))}`, undefined, { accept: 'multipart/mixed' });
    const [revision] = parts(String(read.headers['content-type']), read.rawPayload);
    const written = await couch('PUT', '/mptarget/copied?new_edits=false', revision.body, { 'content-type': revision.headers['content-type'] });
    expect(written.statusCode).toBe(201);
    const [a, b] = await Promise.all(['mpsource', 'mptarget'].map(async (db) => (await couch('GET', `/${db}/copied?revs=true`)).json()));
    expect(b).toEqual(a);
    expect((await couch('GET', '/mptarget/copied/photo.bin')).rawPayload.equals(photo)).toBe(true);
  });

  it('refuses a broken multipart document with a 400 and stores nothing', async () => {
    const doc = (atts: object) => ({ _id: 'broken', title: 'x', _attachments: atts });
    const att = { content_type: 'text/plain', follows: true, length: 5 };
    const cases: [string, { contentType: string; body: Buffer }, string][] = [
      ['a part is missing', related(doc({ a: att, b: att }), [{ name: 'a', type: 'text/plain', data: Buffer.from('hello') }]), 'bad_request'],
      ['the length is wrong', related(doc({ a: { ...att, length: 6 } }), [{ name: 'a', type: 'text/plain', data: Buffer.from('hello') }]), 'bad_request'],
      ['the digest is wrong', related(doc({ a: { ...att, digest: md5('hellO') } }), [{ name: 'a', type: 'text/plain', data: Buffer.from('hello') }]), 'content_md5_mismatch'],
      ['the gzip data is not gzip', related(doc({ a: { ...att, encoding: 'gzip' } }), [{ name: 'a', type: 'text/plain', data: Buffer.from('hello') }]), 'bad_request'],
      ['an unknown encoding', related(doc({ a: { ...att, encoding: 'br' } }), [{ name: 'a', type: 'text/plain', data: Buffer.from('hello') }]), 'bad_request'],
      ['the JSON part is not JSON', { contentType: 'multipart/related; boundary=xyz', body: Buffer.from('--xyz\r\nContent-Type: application/json\r\n\r\n{nope\r\n--xyz--') }, 'bad_request'],
      ['no boundary', { contentType: 'multipart/related', body: Buffer.from('--xyz\r\n\r\n{}\r\n--xyz--') }, 'bad_request'],
      ['no closing boundary', { contentType: 'multipart/related; boundary=xyz', body: Buffer.from('--xyz\r\nContent-Type: application/json\r\n\r\n{"title":"x"}') }, 'bad_request'],
      ['parts but nothing follows', related({ _id: 'broken', title: 'x' }, [{ name: 'a', type: 'text/plain', data: Buffer.from('hello') }]), 'bad_request'],
      ['JSON nested too deep', related({ _id: 'broken', deep: JSON.parse('['.repeat(100) + ']'.repeat(100)) }, []), 'bad_request'],
    ];
    for (const [why, { contentType, body }, error] of cases) {
      const res = await couch('PUT', '/mptarget/broken', body, { 'content-type': contentType });
      expect({ why, status: res.statusCode, error: res.json().error }).toEqual({ why, status: 400, error });
    }
    expect((await couch('GET', '/mptarget/broken')).statusCode).toBe(404);
  });

  it('never answers a 5xx to a mangled multipart body (seeded: truncated, bytes flipped, boundaries cut)', async () => {
    let seed = 20261130;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const base = related({ _id: 'mangled', title: 'x', _attachments: { a: { content_type: 'text/plain', follows: true, length: 5 }, b: { content_type: 'text/plain', follows: true, encoding: 'gzip' } } }, [
      { name: 'a', type: 'text/plain', data: Buffer.from('hello') },
      { name: 'b', type: 'text/plain', data: gzipSync('world') },
    ]);
    const statuses = new Map<number, number>();
    for (let i = 0; i < 150; i++) {
      const body = Buffer.from(base.body);
      const mangled = [
        () => body.subarray(0, rand(body.length)),
        () => {
          for (let k = 0; k < 1 + rand(8); k++) body[rand(body.length)] = rand(256);
          return body;
        },
        () => Buffer.concat([body.subarray(0, rand(body.length)), body.subarray(rand(body.length))]),
      ][rand(3)]();
      const contentType = rand(5) === 0 ? `multipart/related; boundary=${'x'.repeat(rand(300))}` : base.contentType;
      const res = await couch('PUT', `/mptarget/mangled${i}`, mangled, { 'content-type': contentType });
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      expect(res.statusCode, `case ${i}`).toBeLessThan(500);
      if (res.statusCode >= 400) expect(res.json()).toEqual({ error: expect.any(String), reason: expect.any(String) });
    }
    expect(statuses.get(400)).toBeGreaterThan(0);
  });

  it('takes document IDs up to 1,024 characters in URLs, and the same revision generations on both databases', async () => {
    const id = `sensor/${'x'.repeat(1000)}/é`;
    const put = await couch('PUT', `/mptarget/${encodeURIComponent(id)}`, { title: 'long' });
    expect(put.statusCode).toBe(201);
    expect((await couch('GET', `/mptarget/${encodeURIComponent(id)}`)).json()).toMatchObject({ _id: id, title: 'long' });
    expect((await couch('GET', `/mptarget/${encodeURIComponent(`${id}y`.padEnd(1100, 'z'))}`)).statusCode).toBe(404);
    const big = await couch('POST', '/mptarget/_bulk_docs', { new_edits: false, docs: [{ _id: 'gen', _rev: '999999999-abc', title: 'old' }] });
    expect(big.statusCode).toBe(201);
    expect((await couch('GET', '/mptarget/gen')).json()._rev).toBe('999999999-abc');
    const tooBig = await couch('PUT', '/mptarget/gen2?new_edits=false', { _rev: '2147483648-abc', title: 'x' });
    expect(tooBig.statusCode).toBe(400);
    expect(tooBig.json().error).toBe('bad_request');
  });

  it('answers a document GET and HEAD with its revision as the ETag, and lists design documents in _design_docs', async () => {
    const rev = (await couch('PUT', '/mpsource/etagged', { title: 'e' })).json().rev;
    for (const method of ['GET', 'HEAD']) expect((await couch(method, '/mpsource/etagged')).headers.etag).toBe(`"${rev}"`);
    expect((await couch('GET', '/mpsource/etagged?open_revs=all')).headers.etag).toBeUndefined();
    // If-None-Match naming it: 304 without a body, as CouchDB answers; another revision, or none, gets the document.
    for (const tag of [`"${rev}"`, `W/"${rev}"`, `"1-${'0'.repeat(32)}", "${rev}"`]) {
      const cached = await couch('GET', '/mpsource/etagged', undefined, { 'if-none-match': tag });
      expect([cached.statusCode, cached.body, cached.headers.etag]).toEqual([304, '', `"${rev}"`]);
    }
    const stale = await couch('GET', '/mpsource/etagged', undefined, { 'if-none-match': `"1-${'0'.repeat(32)}"` });
    expect([stale.statusCode, stale.json()._rev]).toEqual([200, rev]);
    for (const id of ['_design/b', '_design/a']) expect((await couch('PUT', `/mpsource/${id}`, { views: {} })).statusCode).toBe(201);
    const design = (await couch('GET', '/mpsource/_design_docs')).json();
    expect(design.rows.map((r: { id: string }) => r.id)).toEqual(['_design/a', '_design/b']);
    const reversed = (await couch('GET', '/mpsource/_design_docs?descending=true&limit=1')).json();
    expect(reversed.rows.map((r: { id: string }) => r.id)).toEqual(['_design/b']);
  });

  it('reads the checkpointed sequence JSON-encoded, as CouchDB sends it, and still refuses a malformed one', async () => {
    const bare = (await couch('GET', '/mpsource/_changes?since=0&style=all_docs')).json();
    const quoted = (await couch('GET', `/mpsource/_changes?since=${encodeURIComponent('"0"')}&style=all_docs`)).json();
    expect(quoted).toEqual(bare);
    const mid = bare.results[1].seq;
    const after = (await couch('GET', `/mpsource/_changes?since=${encodeURIComponent(JSON.stringify(mid))}`)).json();
    expect(after.results.map((r: { seq: string }) => r.seq)).toEqual(bare.results.slice(2).map((r: { seq: string }) => r.seq));
    const bad = await couch('GET', `/mpsource/_changes?since=${encodeURIComponent('"x1"')}`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toBe('bad_request');
  });

  it('leaves CouchDB\'s replicator on Basic auth: POST /_session at the server root is a 404, which it reads as "no sessions here"', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/_session', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'name=replicator&password=x' });
    expect(res.statusCode).toBe(404);
  });
});
