import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/app.js';
import { apiOf, IMAGE, ok, spaceApp, type Answer, type SpaceTest } from './helpers.js';

// "A stamps list replaces all stamps": concurrent replacements of one document's stamps, fired for real at the
// same time (half of them through a second app with its own pool), must each act whole, as in some serial order.
const ROUNDS = 10;
const WRITERS = 4;

for (const dialect of DIALECTS) {
  describe(`Dreamspace stamp lists replaced concurrently (${dialect})`, () => {
    let s: SpaceTest;
    let peer: FastifyInstance;
    beforeAll(async () => {
      s = await spaceApp(dialect);
      peer = await s.t.peer();
    });
    afterAll(() => s.close());

    const send = (viaPeer: boolean, method: string, path: string, body: unknown): Promise<Answer> => (viaPeer ? apiOf(peer) : s.api)(method, path, body);
    const typesOf = (stamps: { stamp_type: string }[]) => stamps.map((st) => st.stamp_type);
    const listOf = (writer: number) => [
      { stamp_type: `w${writer}-a`, pos_x: writer, pos_y: 1 },
      { stamp_type: `w${writer}-b`, pos_x: writer, pos_y: 2 },
    ];
    const newDocument = async () =>
      ok(await s.api('POST', '/documents', { document_data: IMAGE, seal: 1, stamps: [{ stamp_type: 'old', pos_x: 0, pos_y: 0 }] }))
        .document_id as number;

    it('parallel PATCH /documents/D {stamps}: each answers exactly its own list, and one list is stored whole', async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const doc = await newDocument();
        const answers = await Promise.all(
          Array.from({ length: WRITERS }, (_, w) => send(w % 2 === 1, 'PATCH', `/documents/${doc}`, { stamps: listOf(w) })),
        );
        const lists = Array.from({ length: WRITERS }, (_, w) => typesOf(listOf(w)));
        answers.forEach((answer, w) => expect(typesOf(ok(answer).stamps)).toEqual(lists[w]));
        expect(lists).toContainEqual(typesOf(ok(await s.api('GET', `/documents/${doc}/stamps`))));
      }
    });

    it('PATCH {stamps} through /events/E/document racing PATCH /documents/D and POST /documents/D/stamps', async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const doc = await newDocument();
        const event = ok(
          await s.api('POST', '/events', { event_type: 'plain', message: 'm', occurred_at: '2025-06-08T20:12:00+00:00', document_id: doc }),
        ).event_id;
        const [viaEvent, direct, added] = await Promise.all([
          send(false, 'PATCH', `/events/${event}/document`, { stamps: listOf(0) }),
          send(true, 'PATCH', `/documents/${doc}`, { stamps: listOf(1) }),
          send(round % 2 === 0, 'POST', `/documents/${doc}/stamps`, { stamp_type: 'added', pos_x: 9, pos_y: 9 }),
        ]);
        expect(ok(added).stamp_type).toBe('added');
        // A replacement answers exactly its own list: an added stamp was either there before it (and replaced)
        // or came after it.
        expect(typesOf(ok(viaEvent).stamps)).toEqual(typesOf(listOf(0)));
        expect(typesOf(ok(direct).stamps)).toEqual(typesOf(listOf(1)));
        const stored = typesOf(ok(await s.api('GET', `/documents/${doc}/stamps`)));
        expect([typesOf(listOf(0)), typesOf(listOf(1))]).toContainEqual(stored.filter((t) => t !== 'added'));
        expect(stored.filter((t) => t === 'added').length).toBeLessThanOrEqual(1);
      }
    });
  });
}
