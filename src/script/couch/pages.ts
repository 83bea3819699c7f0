import type { ScriptDb } from '../db.js';
import { findDocSizes, PAGE_CONTENT_BYTES } from './read.js';

/**
 * Items that name documents (`idOf`; undefined: names none), in pages of at most `maxItems` whose documents hold at
 * most PAGE_CONTENT_BYTES of stored content, each counted once a page (a page's first item comes whatever its
 * size). The sizes of each `maxItems` items are read first, without the content.
 */
export async function* pagesByStoredSize<T>(db: ScriptDb, projectId: number, items: T[], maxItems: number, idOf: (item: T) => string | undefined): AsyncGenerator<T[]> {
  for (let at = 0; at < items.length; at += maxItems) {
    const chunk = items.slice(at, at + maxItems);
    const sizes = await findDocSizes(db, projectId, chunk.map(idOf).filter((id): id is string => id !== undefined));
    let page: T[] = [];
    let bytes = 0;
    const counted = new Set<string>();
    for (const item of chunk) {
      const id = idOf(item);
      const fresh = id !== undefined && !counted.has(id);
      const size = fresh ? Number(sizes.get(id)?.stored_bytes ?? 0) : 0;
      if (page.length && bytes + size > PAGE_CONTENT_BYTES) {
        yield page;
        page = [];
        bytes = 0;
        counted.clear();
      }
      if (fresh) {
        bytes += size;
        counted.add(id);
      }
      page.push(item);
    }
    if (page.length) yield page;
  }
}

/** `items` in pages of `size`. */
export async function* fixedPages<T>(items: T[], size: number): AsyncGenerator<T[]> {
  for (let at = 0; at < items.length; at += size) yield items.slice(at, at + size);
}

/**
 * One page (an answer built whole, fast) or more (an answer streamed as the client reads): looks at the first two
 * pages to tell.
 */
export async function onePageOrStream<T>(pages: AsyncGenerator<T[]>): Promise<{ page: T[] } | { stream: AsyncGenerator<T[]> }> {
  const first = await pages.next();
  if (first.done) return { page: [] };
  const second = await pages.next();
  if (second.done) return { page: first.value };
  return {
    stream: (async function* () {
      yield first.value;
      yield second.value;
      yield* pages;
    })(),
  };
}
