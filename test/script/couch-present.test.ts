import { describe, expect, it } from 'vitest';
import type { BlobStore } from '../../src/core/blobs/store.js';
import { presentDoc, winnerJson, winnerOfRow } from '../../src/script/couch/read.js';
import type { DocumentRow } from '../../src/script/documents/present.js';
import type { RevNode } from '../../src/script/documents/tree.js';

// winnerJson (the stored body spliced into _bulk_get's answer) says the same as presentDoc of the parsed row.
const noBlobs = {} as BlobStore;
const base: DocumentRow = {
  id: 7,
  project_id: 1,
  title: 'T',
  content: 'C',
  generation: 2,
  rev: '2-bbb',
  deleted: 0,
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:00.000Z',
  couch_id: 'doc "one"',
  body: JSON.stringify({ title: 'T', content: 'C', n: [1, { x: 'é"\\' }], '10': 'numeric key' }),
  attachments: null,
  branches: 0,
};
const attachments = JSON.stringify({ 'a.png': { content_type: 'image/png', digest: 'md5-x', length: 3, revpos: 1, sha256: 'ab' } });
const tree: RevNode[] = [
  { rev: '1-aaa', parent: null, deleted: false },
  { rev: '2-bbb', parent: '1-aaa', deleted: false },
];

const cases: [string, Partial<DocumentRow>][] = [
  ['a pushed document', {}],
  ['an empty body', { body: '{}' }],
  ['a REST document (no body: title and content)', { body: null }],
  ['a REST document without content', { body: null, content: null }],
  ['a deleted document with a body', { deleted: 1, body: JSON.stringify({ why: 'gone' }) }],
  ['a deleted document without a body', { deleted: 1, body: null }],
  ['attachments', { attachments }],
  ['no attachments left', { attachments: '{}' }],
];

describe('winnerJson', () => {
  for (const [name, change] of cases) {
    it(`answers what presentDoc does: ${name}`, async () => {
      const row = { ...base, ...change };
      for (const revs of [false, true]) {
        for (const t of [undefined, tree]) {
          const expected = await presentDoc(noBlobs, 'doc "one"', winnerOfRow(row), { revs, tree: t });
          expect(JSON.parse(winnerJson('doc "one"', row, revs, t))).toEqual(expected);
        }
      }
    });
  }
});
