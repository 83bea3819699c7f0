import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SpaceKysely } from '../../src/space/db.js';
import { DIALECTS } from '../helpers/app.js';
import { IMAGE, ok, spaceApp, type SpaceTest } from './helpers.js';

// Bodies at the size the documents allow: images of several MB of base64 (up to the 16 MiB body limit), and
// more stamps in one document than either database takes bound parameters in one statement (SQLite 32,766:
// 6,554 stamps of 5 columns; PostgreSQL 65,535: 13,107).
const BASE64_ERROR = 'Field document_data must be base64 (standard alphabet, padded with "=").';

describe.each(DIALECTS)('dreamspace large images (%s)', (dialect) => {
  let s: SpaceTest;
  beforeAll(async () => {
    s = await spaceApp(dialect);
  });
  afterAll(async () => s.close());

  /** The stored image, read from the database itself. */
  async function storedData(documentId: number) {
    const db = s.t.database.db as SpaceKysely;
    const row = await db.selectFrom('space_documents').select('document_data').where('document_id', '=', documentId).executeTakeFirst();
    return row?.document_data;
  }

  it('POST and PATCH take a 3584 KiB and a 12 MiB image (base64 of 4.9 and 16 MB) and answer them whole', async () => {
    const medium = randomBytes(3584 * 1024).toString('base64');
    expect(medium.length).toBe(4_893_356);
    const doc = ok(await s.api('POST', '/documents', { document_data: medium, seal: 3, stamps: [{ stamp_type: 'a', pos_x: 1, pos_y: 2 }] }));
    expect(doc).toMatchObject({ document_data: medium, seal: 3, stamps: [{ stamp_type: 'a', pos_x: 1, pos_y: 2, rotation: 0 }] });
    expect(await storedData(doc.document_id)).toBe(medium);
    expect(ok(await s.api('GET', `/documents/${doc.document_id}`)).document_data).toBe(medium);

    // 12 MiB less 2 KiB of raw image: its base64 and the rest of the body stay under the 16 MiB body limit.
    const large = randomBytes(12 * 1024 * 1024 - 2048).toString('base64');
    expect(large.length).toBeGreaterThan(16_770_000);
    const patched = ok(await s.api('PATCH', `/documents/${doc.document_id}`, { document_data: large }));
    expect(patched.document_data).toBe(large);
    expect(patched.stamps).toHaveLength(1);
    expect(await storedData(doc.document_id)).toBe(large);

    const second = ok(await s.api('POST', '/documents', { document_data: large.slice(0, large.length - 4) + 'YQ==', seal: 4 }));
    expect(second.document_data.endsWith('YQ==')).toBe(true);
    expect(await storedData(second.document_id)).toBe(second.document_data);
    const event = ok(await s.api('POST', '/events', { event_type: 'plain', message: 'm', occurred_at: '2025-06-08', document: { document_data: medium, seal: 5 } }));
    expect(event.document.document_data).toBe(medium);
    expect(await storedData(event.document_id)).toBe(medium);
  });

  it('refuses large invalid base64 with a 400, storing and changing nothing', async () => {
    const doc = ok(await s.api('POST', '/documents', { document_data: IMAGE, seal: 1 }));
    const before = await s.counts();
    const good = randomBytes(3584 * 1024).toString('base64');
    const middle = good.length / 2;
    const bad = [
      `${good.slice(0, middle)}!${good.slice(middle + 1)}`, // a character outside the alphabet
      `${good.slice(0, middle)}=${good.slice(middle + 1)}`, // padding in the middle
      `${good.slice(0, -4)}A===`, // three padding characters
      good.slice(1), // not a multiple of four
      `${good.slice(0, -4)}\n${good.slice(-3)}`, // a line break
    ];
    for (const data of bad) {
      const created = await s.api('POST', '/documents', { document_data: data, seal: 1 });
      expect(created.status).toBe(400);
      expect(created.text).toBe(BASE64_ERROR);
      const patched = await s.api('PATCH', `/documents/${doc.document_id}`, { document_data: data });
      expect(patched.status).toBe(400);
      expect(patched.text).toBe(BASE64_ERROR);
    }
    expect(await s.counts()).toEqual(before);
    expect(await storedData(doc.document_id)).toBe(IMAGE);
  });
});

describe.each(DIALECTS)('dreamspace documents with many stamps (%s)', (dialect) => {
  let s: SpaceTest;
  beforeAll(async () => {
    s = await spaceApp(dialect);
  });
  afterAll(async () => s.close());

  const manyStamps = (count: number, type: string) =>
    Array.from({ length: count }, (_, i) => ({ stamp_type: `${type}-${i % 7}`, pos_x: i, pos_y: 5 - i, rotation: i / 8 }));
  /** The stored stamps of a document, read from the database itself, in ID order. */
  async function storedStamps(documentId: number) {
    const db = s.t.database.db as SpaceKysely;
    const rows = await db
      .selectFrom('space_stamps')
      .select(['stamp_type', 'pos_x', 'pos_y', 'rotation'])
      .where('document_id', '=', documentId)
      .orderBy('stamp_id')
      .execute();
    return rows.map((r) => ({ stamp_type: r.stamp_type, pos_x: Number(r.pos_x), pos_y: Number(r.pos_y), rotation: Number(r.rotation) }));
  }
  const expectStamps = (answer: any[], sent: ReturnType<typeof manyStamps>, documentId: number) => {
    expect(answer).toHaveLength(sent.length);
    expect(answer.map(({ stamp_type, pos_x, pos_y, rotation }) => ({ stamp_type, pos_x, pos_y, rotation }))).toEqual(sent);
    for (const stamp of answer) expect(stamp.document_id).toBe(documentId);
  };

  it('POST /documents, POST /events with a document and PATCH /documents/N take 20,000 stamps, in order', async () => {
    const sent = manyStamps(20_000, 'post');
    const doc = ok(await s.api('POST', '/documents', { document_data: IMAGE, seal: 1, stamps: sent }));
    expectStamps(doc.stamps, sent, doc.document_id);
    expect(await storedStamps(doc.document_id)).toEqual(sent);
    expect(ok(await s.api('GET', `/documents/${doc.document_id}/stamps`))).toEqual(doc.stamps);

    const viaEvent = manyStamps(15_000, 'event');
    const event = ok(
      await s.api('POST', '/events', {
        event_type: 'plain',
        message: 'many',
        occurred_at: '2025-06-08T20:12:00+10:00',
        user: { twitch_id: 'stamper', name: 'stamper' },
        document: { document_data: IMAGE, seal: 2, stamps: viaEvent },
      }),
    );
    expectStamps(event.document.stamps, viaEvent, event.document_id);
    expect(await storedStamps(event.document_id)).toEqual(viaEvent);

    const replaced = manyStamps(14_000, 'patch');
    const patched = ok(await s.api('PATCH', `/documents/${doc.document_id}`, { stamps: replaced }));
    expectStamps(patched.stamps, replaced, doc.document_id);
    expect(await storedStamps(doc.document_id)).toEqual(replaced);
    expect(ok(await s.api('GET', `/stamps?document_id=${doc.document_id}`))).toHaveLength(14_000);
    expect(await storedStamps(event.document_id)).toEqual(viaEvent);
  });

  it('stays all or nothing with long lists: a bad stamp at the end, or a missing user after the stamps, stores none', async () => {
    const doc = ok(await s.api('POST', '/documents', { document_data: IMAGE, seal: 1, stamps: manyStamps(3, 'keep') }));
    const before = await s.counts();
    const sent = [...manyStamps(20_000, 'bad'), { stamp_type: 'x', pos_x: 0 }];
    const created = await s.api('POST', '/documents', { document_data: IMAGE, seal: 1, stamps: sent });
    expect(created.status).toBe(400);
    expect(created.text).toBe('Missing required field: stamps[20000].pos_y.');
    const patched = await s.api('PATCH', `/documents/${doc.document_id}`, { stamps: sent });
    expect(patched.status).toBe(400);
    // The document and its 20,000 stamps are written before the missing user is found: all rolled back.
    const event = await s.api('POST', '/events', {
      event_type: 'plain',
      message: 'm',
      occurred_at: '2025-06-08',
      user_id: 999_999,
      document: { document_data: IMAGE, seal: 2, stamps: manyStamps(20_000, 'ev') },
    });
    expect(event.status).toBe(400);
    expect(event.text).toBe('User 999999 does not exist.');
    expect(await s.counts()).toEqual(before);
    expect(await storedStamps(doc.document_id)).toEqual(manyStamps(3, 'keep'));
  });
});
