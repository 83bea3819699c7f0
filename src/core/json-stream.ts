import { Readable } from 'node:stream';

/**
 * A JSON answer too large to build in memory, sent a page at a time: `head`, the items (JSON text) of every page
 * separated by commas, then `tail()` (called last, so it may name what the pages found, e.g. a last sequence).
 * Handed to `reply.send`, the Readable asks for the next page only when the client has taken the previous one, so
 * the server holds one page whatever the answer's size and however slowly the client reads.
 */
export function jsonPages(head: string, pages: AsyncIterable<string[]>, tail: () => string): Readable {
  return Readable.from(joined(head, pages, tail));
}

async function* joined(head: string, pages: AsyncIterable<string[]>, tail: () => string): AsyncGenerator<string> {
  yield head;
  let first = true;
  for await (const items of pages) {
    if (!items.length) continue;
    yield (first ? '' : ',') + items.join(',');
    first = false;
  }
  yield tail();
}
