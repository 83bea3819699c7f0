import { describe, expect, it } from 'vitest';
import { couchFixture, DIALECTS } from './helpers.js';

// Attachment names are the client's: `__proto__`, `constructor` or `toString` name an attachment or nothing,
// never a member of Object (the fuzzer found GET /{db}/{doc}/__proto__ answering 500).
describe.each(DIALECTS)('CouchDB attachment names that JavaScript objects have (%s)', (dialect) => {
  const f = couchFixture(dialect, 'attnames');
  const { couch } = f;

  it('answers 404 for a member of Object that is no attachment, and stores and serves one so named (not __proto__: no _ names)', async () => {
    const plain = (await couch('PUT', '/attnames/plain', { v: 1 })).json();
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const res = await couch('GET', `/attnames/plain/${name}`);
      expect([res.statusCode, res.json()]).toEqual([404, { error: 'not_found', reason: 'Document is missing attachment' }]);
      expect((await couch('DELETE', `/attnames/plain/${name}?rev=${plain.rev}`)).statusCode).toBe(404);
    }
    const data = (text: string) => ({ content_type: 'text/plain', data: Buffer.from(text).toString('base64') });
    // As in CouchDB, a name may not start with an underscore; `constructor` is a name like any other.
    const refused = await couch('PUT', '/attnames/named', { _attachments: { ['__proto__']: data('proto bytes') } });
    expect([refused.statusCode, refused.json().error]).toEqual([400, 'bad_request']);
    const named = await couch('PUT', '/attnames/named', { _attachments: { constructor: data('ctor bytes'), toString: data('to string') } });
    expect(named.statusCode, named.body).toBe(201);
    expect((await couch('GET', '/attnames/named/constructor')).body).toBe('ctor bytes');
    expect((await couch('GET', '/attnames/named/toString')).body).toBe('to string');
    expect(Object.keys((await couch('GET', '/attnames/named')).json()._attachments).sort()).toEqual(['constructor', 'toString']);
    expect((await couch('GET', '/attnames/named/hasOwnProperty')).statusCode).toBe(404);
    expect((await couch('GET', '/attnames/named/__proto__')).statusCode).toBe(404);
  });
});
