import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTimestamp, renderTimestamp } from '../../src/space/time.js';
import { DIALECTS } from '../helpers/app.js';
import { ok, spaceApp, type SpaceTest } from './helpers.js';

// The server's time zone is the process's: this file runs in Brisbane (+10:00, no daylight saving),
// the zone of the examples in the Dreamspace document.
const originalTz = process.env.TZ;
function useZone(zone: string | undefined) {
  if (zone === undefined) delete process.env.TZ;
  else process.env.TZ = zone;
}

describe('dreamspace timestamps', () => {
  beforeAll(() => useZone('Australia/Brisbane'));
  afterAll(() => useZone(originalTz));

  it('stores UTC text with a fixed six-digit fraction, so that text order is time order', () => {
    expect(parseTimestamp('2025-06-08T20:12:00+10:00')).toBe('2025-06-08T10:12:00.000000Z');
    expect(parseTimestamp('2025-06-08T10:12:00Z')).toBe('2025-06-08T10:12:00.000000Z');
    expect(parseTimestamp('2025-06-13T23:52:45.320284+10:00')).toBe('2025-06-13T13:52:45.320284Z');
    expect(parseTimestamp('2025-06-08T20:12:00.5-03:30')).toBe('2025-06-08T23:42:00.500000Z');
    expect(parseTimestamp('2025-06-08T20:12:00.123456789+0000')).toBe('2025-06-08T20:12:00.123456Z');
    expect(parseTimestamp('2025-06-08 20:12+10')).toBe('2025-06-08T10:12:00.000000Z');
  });

  it('reads values without an offset in the server time zone', () => {
    expect(parseTimestamp('2025-06-08T20:12:00')).toBe('2025-06-08T10:12:00.000000Z');
    expect(parseTimestamp('2025-06-08')).toBe('2025-06-07T14:00:00.000000Z');
    expect(parseTimestamp('0100-01-01T00:00:00Z')).toBe('0100-01-01T00:00:00.000000Z');
  });

  it('refuses what is not an ISO 8601 date or date-time', () => {
    for (const bad of ['', 'now', '2025-6-8', '2025-02-29', '2024-02-30', '2025-13-01', '2025-06-08T24:00:00', '2025-06-08T20:61', '2025-06-08T20:12:00+25:00', '20250608', '2025-06-08T20', '10000-01-01', '0000-01-01T00:00:00Z']) {
      expect(parseTimestamp(bad), bad).toBeUndefined();
    }
    expect(parseTimestamp('2024-02-29')).toBeDefined();
  });

  it('renders in the server time zone with its offset, a fraction only when there is one', () => {
    expect(renderTimestamp('2025-06-08T10:12:00.000000Z')).toBe('2025-06-08T20:12:00+10:00');
    expect(renderTimestamp('2025-06-13T13:52:45.320284Z')).toBe('2025-06-13T23:52:45.320284+10:00');
    expect(renderTimestamp('2025-12-31T20:00:00.000001Z')).toBe('2026-01-01T06:00:00.000001+10:00');
    expect(renderTimestamp(null)).toBeNull();
  });

  it('renders the ends of the range in UTC where the local date would leave years 1-9999', () => {
    // Brisbane is +10:00: the last instant of 9999 is in 10000 there, which has no ISO 8601 text of the usual form
    // (toISOString writes +010000-…, cut into "+010000-01-01T09:59").
    expect(renderTimestamp('9999-12-31T23:59:59.999999Z')).toBe('9999-12-31T23:59:59.999999+00:00');
    expect(renderTimestamp('9999-12-31T13:59:59.000000Z')).toBe('9999-12-31T23:59:59+10:00');
    useZone('America/New_York');
    try {
      expect(renderTimestamp('0001-01-01T00:00:00.000000Z')).toBe('0001-01-01T00:00:00+00:00');
    } finally {
      useZone('Australia/Brisbane');
    }
  });

  it('follows daylight saving: the offset is the one at that instant', () => {
    useZone('Europe/Berlin');
    try {
      expect(renderTimestamp('2025-07-01T10:00:00.000000Z')).toBe('2025-07-01T12:00:00+02:00');
      expect(renderTimestamp('2025-01-01T10:00:00.000000Z')).toBe('2025-01-01T11:00:00+01:00');
      expect(parseTimestamp('2025-07-01T12:00:00')).toBe('2025-07-01T10:00:00.000000Z');
      useZone('America/St_Johns');
      expect(renderTimestamp('2025-01-01T12:00:00.000000Z')).toBe('2025-01-01T08:30:00-03:30');
    } finally {
      useZone('Australia/Brisbane');
    }
  });
});

describe.each(DIALECTS)('dreamspace timestamps over HTTP (%s)', (dialect) => {
  let s: SpaceTest;
  beforeAll(async () => {
    useZone('Australia/Brisbane');
    s = await spaceApp(dialect);
  });
  afterAll(async () => {
    await s.close();
    useZone(originalTz);
  });

  it('reads occurred_at without an offset in the server zone and answers with the offset, as documented', async () => {
    const event = ok(await s.api('POST', '/events', { event_type: 'plain', message: 'm', occurred_at: '2025-06-08T20:12:00' }));
    expect(event.occurred_at).toBe('2025-06-08T20:12:00+10:00');
    expect(event.created_at).toMatch(/\+10:00$/);
    const utc = ok(await s.api('POST', '/events', { event_type: 'plain', message: 'm', occurred_at: '2025-06-08T10:12:00.25Z' }));
    expect(utc.occurred_at).toBe('2025-06-08T20:12:00.250000+10:00');
  });

  it('reads filter dates in the server zone and compares instants, not text', async () => {
    const late = ok(await s.api('POST', '/events', { event_type: 'raid', viewer_count: 1, occurred_at: '2030-01-01T23:30:00-05:00' }));
    // 2030-01-01T23:30-05:00 is 2030-01-02T14:30 in Brisbane: on the 2nd there, not the 1st.
    const on = async (q: string) => ok(await s.api('GET', `/events?event_type=raid&${q}`)).map((e: any) => e.event_id);
    expect(await on('occurred_after=2030-01-02&occurred_before=2030-01-03')).toEqual([late.event_id]);
    expect(await on('occurred_after=2030-01-01&occurred_before=2030-01-02')).toEqual([]);
    expect(await on('occurred_after=2030-01-02T04:30:00Z')).toEqual([late.event_id]);
    expect(await on('occurred_after=2030-01-02T04:30:00.000001Z')).toEqual([]);
  });
});
