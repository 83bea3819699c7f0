// Dreamspace Adventures under load, on SQLite and PostgreSQL: the implicit create (POST /events with a
// user upserted by twitch_id, a document and 3 stamps, in one transaction) and the filtered list
// GET /events?event_type=plain over 100,000 stored events (a quarter of them plain, one in ten with a
// document of 3 stamps), whole and paged with the `limit` extension. Also prints SQL statements per request.
import type { Kysely } from 'kysely';
import type { SpaceDb } from '../src/space/db.js';
import { nowTimestamp, parseTimestamp } from '../src/space/time.js';
import { BENCH_SPACE_TOKEN, countStatements, measure, startTarget, type BenchTarget, type DialectName } from './lib.js';

const SECONDS = 5;
const EVENTS = 100_000;
const USERS = 1000;
const TYPES = ['plain', 'subscriber', 'cheer', 'raid'] as const;
const IMAGE = Buffer.from('a small stand-in for a PNG of a stamped document, 64 bytes long.').toString('base64');
const HEADERS = { 'x-api-key': BENCH_SPACE_TOKEN, 'content-type': 'application/json' };

function implicitEvent(n: number) {
  return JSON.stringify({
    event_type: 'plain',
    message: `bench message ${n}`,
    occurred_at: '2025-06-08T20:12:00+10:00',
    user_name: `viewer${n % USERS}`,
    user: { twitch_id: `bench-${n % USERS}`, name: `viewer${n % USERS}` },
    document: {
      document_data: IMAGE,
      seal: n % 5,
      metadata: 'bench',
      stamps: [0, 1, 2].map((i) => ({ stamp_type: ['Approve', 'Deny', 'Seen'][i], pos_x: i * 10, pos_y: i * 20, rotation: i * 0.5 })),
    },
  });
}

export async function run(dialects: DialectName[]): Promise<void> {
  for (const dialect of dialects) {
    const target = await startTarget(dialect);
    try {
      await workload(target);
    } finally {
      await target.close();
    }
  }
}

async function workload(target: BenchTarget) {
  const { dialect, url } = target;
  // The bare server on the same machine in the same run, to read the figures below against.
  await measure({ scenario: 'GET /health (baseline, no database)', dialect, url: `${url}/health`, seconds: 3 });
  let n = 0;
  await measure({
    scenario: 'POST /events implicit user+document+3 stamps',
    dialect,
    url,
    seconds: SECONDS,
    requests: [
      {
        method: 'POST',
        path: '/dreamspace/events',
        headers: HEADERS,
        setupRequest: (req) => ({ ...req, body: implicitEvent(n++) }),
      },
    ],
  });
  console.log(`         (${n} events posted; the first ${USERS} create their user, the rest update it)`);

  await new Promise((r) => setTimeout(r, 500)); // let the last POSTs finish
  const started = Date.now();
  await seed(target.database.db as Kysely<SpaceDb>);
  console.log(`         seeded ${EVENTS} more events in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const plain = ((await (await fetch(`${url}/dreamspace/events?event_type=plain`, { headers: HEADERS })).json()) as unknown[]).length;

  await measure({
    scenario: `GET /events?event_type=plain (${plain} of ${EVENTS + n})`,
    dialect,
    url: `${url}/dreamspace/events?event_type=plain`,
    headers: HEADERS,
    // A fixed number of requests rather than a duration: each takes about a second.
    amount: 12,
    connections: 2,
  });
  await measure({
    scenario: 'GET /events?event_type=plain&limit=50',
    dialect,
    url: `${url}/dreamspace/events?event_type=plain&limit=50&after=${Math.floor(EVENTS / 2)}`,
    headers: HEADERS,
    seconds: SECONDS,
  });
  await fetch(`${url}/dreamspace/users/1/specimens`, { method: 'POST', headers: HEADERS, body: '{}' });
  await measure({ scenario: 'GET /users/1 (wallet, current specimen)', dialect, url: `${url}/dreamspace/users/1`, headers: HEADERS, seconds: SECONDS });
  await measure({
    scenario: 'GET /events/1/user/specimen/owner',
    dialect,
    url: `${url}/dreamspace/events/1/user/specimen/owner`,
    headers: HEADERS,
    seconds: SECONDS,
  });

  const statements = async (label: string, request: Parameters<typeof countStatements>[1]) => {
    const { statements: count, status } = await countStatements(target, request);
    console.log(`${dialect.padEnd(8)} ${label.padEnd(44)} ${count} SQL statements (status ${status})`);
  };
  const inject = { headers: HEADERS };
  await statements('POST /events implicit (user, document, stamps)', { ...inject, method: 'POST', url: '/dreamspace/events', payload: implicitEvent(1) });
  await statements('GET /events?event_type=plain&limit=50', { ...inject, method: 'GET', url: '/dreamspace/events?event_type=plain&limit=50' });
  await statements('GET /users/1', { ...inject, method: 'GET', url: '/dreamspace/users/1' });
  await statements('GET /events/1/user/specimen/owner', { ...inject, method: 'GET', url: '/dreamspace/events/1/user/specimen/owner' });
  await statements('GET /events?event_type=plain (whole list)', { ...inject, method: 'GET', url: '/dreamspace/events?event_type=plain' });
}

/** 100,000 events straight into the tables, in batches inside one transaction. */
export async function seed(db: Kysely<SpaceDb>) {
  const now = nowTimestamp();
  const base = Date.parse('2025-01-01T00:00:00Z');
  // Read first, outside the transaction: on SQLite a transaction that reads and then writes cannot wait
  // for the server's last writes to finish (SQLITE_BUSY); one that starts with a write can.
  const users = await db.selectFrom('space_users').select('user_id').orderBy('user_id').execute();
  const userIds = users.map((u) => u.user_id);
  await db.transaction().execute(async (trx) => {
    const BATCH = 500;
    for (let start = 0; start < EVENTS; start += BATCH) {
      const count = Math.min(BATCH, EVENTS - start);
      const withDocument = Array.from({ length: count }, (_, i) => (start + i) % 10 === 0);
      const documents = withDocument.filter(Boolean).length;
      const docIds = documents
        ? (
            await trx
              .insertInto('space_documents')
              .values(Array.from({ length: documents }, (_, i) => ({ document_data: IMAGE, seal: i % 5, metadata: 'seed', created_at: now })))
              .returning('document_id')
              .execute()
          ).map((d) => d.document_id)
        : [];
      if (docIds.length) {
        await trx
          .insertInto('space_stamps')
          .values(docIds.flatMap((document_id) => [0, 1, 2].map((i) => ({ document_id, stamp_type: 'Approve', pos_x: i, pos_y: i, rotation: 0 }))))
          .execute();
      }
      let d = 0;
      await trx
        .insertInto('space_events')
        .values(
          Array.from({ length: count }, (_, i) => {
            const k = start + i;
            const type = TYPES[k % TYPES.length];
            return {
              event_type: type,
              user_id: userIds.length ? userIds[k % userIds.length] : null,
              user_name: `viewer${k % USERS}`,
              occurred_at: parseTimestamp(new Date(base + k * 60_000).toISOString()) as string,
              created_at: now,
              document_id: withDocument[i] ? docIds[d++] : null,
              message: type === 'plain' || type === 'cheer' ? `seeded message ${k}` : null,
              tier: type === 'subscriber' ? 1 : null,
              subscribed_length: type === 'subscriber' ? k % 24 : null,
              amount: type === 'cheer' ? 100 : null,
              viewer_count: type === 'raid' ? k % 500 : null,
            };
          }),
        )
        .execute();
    }
  });
}
