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

describe('heap trimming while files stream', () => {
  const GiB = 1024 * MiB;

  async function withHeap(used: () => number) {
    const calls: unknown[] = [];
    let finish: () => void = () => {};
    g.gc = (options: { execution: string }) => {
      calls.push(options);
      return options.execution === 'async' ? new Promise<void>((resolve) => (finish = resolve)) : undefined;
    };
    vi.resetModules();
    vi.doMock('node:v8', async (importOriginal) => ({ ...(await importOriginal<object>()), getHeapStatistics: () => ({ used_heap_size: used() }) }));
    const memory = await import('../src/core/memory.js');
    return { calls, finish: async () => (finish(), await new Promise((r) => setImmediate(r))), ...memory };
  }

  afterEach(() => vi.doUnmock('node:v8'));

  it('asks for one full collection once the heap has grown 8 MiB past its size after the last one', async () => {
    let used = 40 * MiB;
    const { calls, finish, settleHeap, streamedBytes, collectingEvery } = await withHeap(() => used);
    settleHeap(); // the floor: 40 MiB
    expect(calls).toEqual([{ type: 'major', execution: 'sync' }]);
    used += 7 * MiB;
    streamedBytes(GiB); // looked, not grown enough
    expect(calls).toHaveLength(1);
    used += 2 * MiB; // 9 MiB above the floor
    streamedBytes(64 * MiB - 1); // not 64 MiB since the last look yet
    expect(calls).toHaveLength(1);
    streamedBytes(1);
    expect(calls).toEqual([{ type: 'major', execution: 'sync' }, { type: 'major', execution: 'async' }]);
    streamedBytes(GiB); // one at a time: the first has not finished
    expect(calls).toHaveLength(2);
    used = 38 * MiB; // what it freed
    await finish();
    used = 45 * MiB; // 7 MiB above the new floor
    streamedBytes(64 * MiB);
    expect(calls).toHaveLength(2);
    used = 47 * MiB;
    const upload = collectingEvery(GiB); // upload loops count through the same look
    upload(64 * MiB);
    expect(calls.at(-1)).toEqual({ type: 'major', execution: 'async' });
  });

  it('frees the garbage a real V8 heap holds (node --expose-gc)', async () => {
    const { execFileSync } = await import('node:child_process');
    const script = `
      import { getHeapStatistics } from 'node:v8';
      import { settleHeap, streamedBytes } from './src/core/memory.ts';
      settleHeap();
      let keep = [];
      for (let i = 0; i < 200; i++) { keep.push(new Array(10000).fill(i).map(String)); if (i % 20 === 0) gc({ type: 'minor', execution: 'sync' }); }
      keep = null; // old-generation garbage now
      const before = getHeapStatistics().used_heap_size;
      streamedBytes(64 * 1024 * 1024);
      await new Promise((r) => setTimeout(r, 200));
      console.log(JSON.stringify({ before, after: getHeapStatistics().used_heap_size }));`;
    const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script], { cwd: process.cwd(), encoding: 'utf8' });
    const { before, after } = JSON.parse(out.trim().split('\n').at(-1)!) as { before: number; after: number };
    expect(before - after).toBeGreaterThan(8 * MiB);
  });
});
