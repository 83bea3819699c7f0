import { afterEach, describe, expect, it, vi } from 'vitest';

// core/memory.ts reads globalThis.gc when it loads (Node's --expose-gc): a recording stand-in is put there first.
const MiB = 1024 * 1024;
const g = globalThis as { gc?: unknown };
const original = g.gc;

async function withRecordingGc() {
  const calls: unknown[] = [];
  g.gc = (options: unknown) => calls.push(options);
  vi.resetModules();
  const memory = await import('../src/core/memory.js');
  return { calls, ...memory };
}

afterEach(() => {
  g.gc = original;
  vi.resetModules();
});

describe('collectingEvery', () => {
  it('asks for one young collection per `every` bytes streamed by all counters together, not per counter', async () => {
    const { calls, collectingEvery } = await withRecordingGc();
    const parts = [collectingEvery(), collectingEvery(), collectingEvery(), collectingEvery()];
    // Four parts in flight, 3 MiB each: 12 MiB in all, so three collections (each counter alone never reaches 4 MiB).
    for (let i = 0; i < 3; i++) for (const count of parts) count(MiB);
    expect(calls).toEqual([
      { type: 'minor', execution: 'sync' },
      { type: 'minor', execution: 'sync' },
      { type: 'minor', execution: 'sync' },
    ]);
    parts[0](MiB - 1);
    expect(calls).toHaveLength(3);
  });

  it('does nothing without --expose-gc', async () => {
    g.gc = undefined;
    vi.resetModules();
    const { collectingEvery } = await import('../src/core/memory.js');
    const calls: unknown[] = [];
    g.gc = (options: unknown) => calls.push(options); // too late: what the module found when it loaded decides
    collectingEvery(1)(10 * MiB);
    expect(calls).toEqual([]);
  });
});
