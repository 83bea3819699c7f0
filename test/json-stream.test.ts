import { describe, expect, it } from 'vitest';
import { jsonPages } from '../src/core/json-stream.js';

const text = async (stream: AsyncIterable<unknown>) => {
  let out = '';
  for await (const chunk of stream) out += String(chunk);
  return out;
};

describe('jsonPages', () => {
  it('joins the items of every page with commas between head and tail, skipping empty pages', async () => {
    async function* pages() {
      yield [];
      yield ['1', '{"a":2}'];
      yield [];
      yield ['3'];
    }
    expect(JSON.parse(await text(jsonPages('{"rows":[', pages(), () => ']}')))).toEqual({ rows: [1, { a: 2 }, 3] });
    async function* none() {}
    expect(await text(jsonPages('[', none(), () => ']'))).toBe('[]');
  });

  it('asks for the tail after the last page, so that it can name what the pages found', async () => {
    let read = 0;
    async function* pages() {
      for (let i = 0; i < 3; i++) {
        read++;
        yield [String(i)];
      }
    }
    const stream = jsonPages('[', pages(), () => `],"pages":${read}`);
    const it = stream[Symbol.asyncIterator]();
    expect((await it.next()).value).toBe('[');
    let rest = '';
    for (let r = await it.next(); !r.done; r = await it.next()) rest += r.value;
    expect(rest).toBe('0,1,2],"pages":3');
  });
});
