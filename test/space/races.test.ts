import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/app.js';
import { apiOf, IMAGE, ok, spaceApp, type SpaceTest } from './helpers.js';

// Writes racing a delete of what they point at, fired for real at the same time (two apps with their own
// pools on one database: two server processes, as far as the database can tell). Whatever wins, the answer
// is a 200 or the 4xx the loss means (never a 5xx), and the stored state is consistent.
const ROUNDS = 25;
const AT = '2025-06-08T20:12:00+00:00';

for (const dialect of DIALECTS) {
  describe(`Dreamspace writes racing deletes (${dialect})`, () => {
    let s: SpaceTest;
    let peer: FastifyInstance;
    beforeAll(async () => {
      s = await spaceApp(dialect);
      peer = await s.t.peer();
    });
    afterAll(() => s.close());

    const viaPeer = (method: string, path: string, body?: unknown) => apiOf(peer)(method, path, body);
    let n = 0;
    const newUser = async () => ok(await s.api('POST', '/users', { twitch_id: `race-${n++}`, name: 'racer' })).user_id as number;

    /** Runs `write` and the peer's `DELETE path` together ROUNDS times; checks statuses and then the state. */
    async function race(
      setup: () => Promise<{ write: () => Promise<{ status: number; text: string }>; remove: string; after: (writeStatus: number) => Promise<void> }>,
      writeStatuses: number[],
    ) {
      const seen: Record<string, number> = {};
      for (let round = 0; round < ROUNDS; round++) {
        const { write, remove, after } = await setup();
        const [w, d] = await Promise.all([write(), viaPeer('DELETE', remove)]);
        seen[`${w.status}/${d.status}`] = (seen[`${w.status}/${d.status}`] ?? 0) + 1;
        expect(writeStatuses, `write: ${w.status} ${w.text}`).toContain(w.status);
        expect(d.status, `delete: ${d.text}`).toBe(200);
        await after(w.status);
      }
      return seen;
    }

    it('PATCH /events/E {user_id} racing DELETE /users/U: 200 or 400, and the event never points at a deleted user', async () => {
      await race(async () => {
        const user = await newUser();
        const event = ok(await s.api('POST', '/events', { event_type: 'plain', message: 'm', occurred_at: AT })).event_id;
        return {
          write: () => s.api('PATCH', `/events/${event}`, { user_id: user }),
          remove: `/users/${user}`,
          after: async () => {
            expect(ok(await s.api('GET', `/events/${event}`)).user_id).toBeNull();
          },
        };
      }, [200, 400]);
    });

    it('POST /users/U/specimens racing DELETE /users/U: 200 or 404, and no specimen outlives its owner', async () => {
      await race(async () => {
        const user = await newUser();
        return {
          write: () => s.api('POST', `/users/${user}/specimens`, {}),
          remove: `/users/${user}`,
          after: async () => {
            expect(ok(await s.api('GET', `/specimens?owner_id=${user}`))).toEqual([]);
          },
        };
      }, [200, 404]);
    });

    it('POST /specimens {owner_id} racing DELETE /users/U: 200 or 400', async () => {
      await race(async () => {
        const user = await newUser();
        return {
          write: () => s.api('POST', '/specimens', { owner_id: user }),
          remove: `/users/${user}`,
          after: async () => {
            expect(ok(await s.api('GET', `/specimens?owner_id=${user}`))).toEqual([]);
          },
        };
      }, [200, 400]);
    });

    it('POST /events {user_id} racing DELETE /users/U: 200 or 400, and the event keeps no deleted user', async () => {
      await race(async () => {
        const user = await newUser();
        return {
          write: () => s.api('POST', '/events', { event_type: 'plain', message: 'm', occurred_at: AT, user_id: user }),
          remove: `/users/${user}`,
          after: async () => {
            expect(ok(await s.api('GET', `/events?user_id=${user}`))).toEqual([]);
          },
        };
      }, [200, 400]);
    });

    it('POST /users/U/transactions racing DELETE /users/U: 200 or 404', async () => {
      await race(async () => {
        const user = await newUser();
        return {
          write: () => s.api('POST', `/users/${user}/transactions`, { amount: 5, description: 'race' }),
          remove: `/users/${user}`,
          after: async () => {
            expect(ok(await s.api('GET', `/transactions?user_id=${user}`))).toEqual([]);
          },
        };
      }, [200, 404]);
    });

    it('PATCH /stamps/S/document racing DELETE /documents/D: 200 or 404, and no stamp outlives its document', async () => {
      await race(async () => {
        const doc = ok(await s.api('POST', '/documents', { document_data: IMAGE, seal: 1, stamps: [{ stamp_type: 'a', pos_x: 0, pos_y: 0 }] }));
        const stamp = doc.stamps[0].stamp_id;
        return {
          write: () => s.api('PATCH', `/stamps/${stamp}/document`, { seal: 2, stamps: [{ stamp_type: 'b', pos_x: 1, pos_y: 1 }] }),
          remove: `/documents/${doc.document_id}`,
          after: async () => {
            expect(ok(await s.api('GET', `/stamps?document_id=${doc.document_id}`))).toEqual([]);
          },
        };
      }, [200, 404]);
    });

    it('PATCH /users/U/events/E racing DELETE /users/U: 200 or 404', async () => {
      await race(async () => {
        const user = await newUser();
        const event = ok(await s.api('POST', '/events', { event_type: 'plain', message: 'm', occurred_at: AT, user_id: user })).event_id;
        return {
          write: () => s.api('PATCH', `/users/${user}/events/${event}`, { message: 'changed' }),
          remove: `/users/${user}`,
          after: async (status) => {
            const stored = ok(await s.api('GET', `/events/${event}`));
            expect(stored.user_id).toBeNull();
            expect(stored.message).toBe(status === 200 ? 'changed' : 'm');
          },
        };
      }, [200, 404]);
    });

    it('PATCH /events/E racing DELETE /events/E: 200 or 404, and the event is gone', async () => {
      await race(async () => {
        const event = ok(await s.api('POST', '/events', { event_type: 'plain', message: 'm', occurred_at: AT })).event_id;
        return {
          write: () => s.api('PATCH', `/events/${event}`, { message: 'changed' }),
          remove: `/events/${event}`,
          after: async () => {
            expect((await s.api('GET', `/events/${event}`)).status).toBe(404);
          },
        };
      }, [200, 404]);
    });

    it('two PATCHes claiming one twitch_id at once: one 200, one 400', async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const [a, b] = [await newUser(), await newUser()];
        const claim = `claimed-${round}`;
        const answers = await Promise.all([
          s.api('PATCH', `/users/${a}`, { twitch_id: claim }),
          viaPeer('PATCH', `/users/${b}`, { twitch_id: claim }),
        ]);
        expect(answers.map((x) => x.status).sort()).toEqual([200, 400]);
        expect(ok(await s.api('GET', `/users?twitch_id=${claim}`))).toHaveLength(1);
      }
    });

    it('several PATCHes of the twitch_id of one user at once: every one a 200 (no deadlock answered 409)', async () => {
      // On PostgreSQL a change of twitch_id (a unique column) is a key update: taken after the PATCH's own
      // `key share` lock, two such PATCHes deadlocked on each other's lock, and past the retries answered 409.
      for (let round = 0; round < 5; round++) {
        const user = await newUser();
        const event = ok(await s.api('POST', '/events', { event_type: 'plain', message: 'm', occurred_at: AT, user_id: user })).event_id;
        const answers = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            i % 2 === 0
              ? s.api('PATCH', `/users/${user}`, { twitch_id: `moved-${round}-${i}` })
              : viaPeer('PATCH', `/events/${event}/user`, { twitch_id: `moved-${round}-${i}` }),
          ),
        );
        expect(answers.map((x) => `${x.status} ${x.text.slice(0, 80)}`)).toEqual(answers.map(() => expect.stringMatching(/^200 /)));
        expect(ok(await s.api('GET', `/users/${user}`)).twitch_id).toMatch(new RegExp(`^moved-${round}-\\d$`));
      }
    });
  });
}
