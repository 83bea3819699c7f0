// A document's revisions form a tree (CouchDB's model): each revision names its parent, edits made apart
// (offline replicas, new_edits:false) branch, and every leaf is a version of the document. The winner is
// the same everywhere without coordination: live leaves beat deleted ones, then the highest generation,
// then the highest revision id (compared as text), as CouchDB and PouchDB decide it.

export interface Leaf {
  rev: string;
  deleted: boolean;
}

export interface RevNode extends Leaf {
  parent: string | null;
  /** Only its id is kept (compacted); set by `loadTrees`. */
  pruned?: boolean;
}

export function generationOf(rev: string): number {
  return Number(rev.slice(0, rev.indexOf('-')));
}

export function hashOf(rev: string): string {
  return rev.slice(rev.indexOf('-') + 1);
}

/** Positive when `a` wins over `b`. */
export function compareLeaves(a: Leaf, b: Leaf): number {
  if (a.deleted !== b.deleted) return a.deleted ? -1 : 1;
  const ga = generationOf(a.rev);
  const gb = generationOf(b.rev);
  if (ga !== gb) return ga - gb;
  const ha = hashOf(a.rev);
  const hb = hashOf(b.rev);
  return ha === hb ? 0 : ha > hb ? 1 : -1;
}

export function winnerOf<T extends Leaf>(leaves: Iterable<T>): T {
  let best: T | undefined;
  for (const leaf of leaves) if (!best || compareLeaves(leaf, best) > 0) best = leaf;
  if (!best) throw new Error('a document without revisions');
  return best;
}

/** Leaves ordered as CouchDB lists them: the winner first. */
export function sortLeaves<T extends Leaf>(leaves: Iterable<T>): T[] {
  return [...leaves].sort((a, b) => compareLeaves(b, a));
}

/** CouchDB's `_conflicts`: the live leaves other than the winner, in winner order. */
export function conflictRevs(leaves: Iterable<Leaf>, winner: string): string[] {
  return sortLeaves(leaves)
    .filter((l) => !l.deleted && l.rev !== winner)
    .map((l) => l.rev);
}

/** The nodes without a child. */
export function leavesOf(nodes: Iterable<RevNode>): RevNode[] {
  const all = [...nodes];
  const parents = new Set(all.map((n) => n.parent));
  return all.filter((n) => !parents.has(n.rev));
}

/** `rev` and its known ancestors, newest first, at most `limit` of them. */
export function ancestry(byRev: Map<string, RevNode>, rev: string, limit = Infinity): string[] {
  const path: string[] = [];
  for (let at: string | null = rev; at !== null && path.length < limit; ) {
    path.push(at);
    const parent: string | null = byRev.get(at)?.parent ?? null;
    // A parent that stemming removed ends the path.
    at = parent !== null && byRev.has(parent) ? parent : null;
  }
  return path;
}

/** CouchDB's `_revisions`: the newest generation and the hashes of a path, newest first. */
export function revisionsField(path: string[]): { start: number; ids: string[] } {
  return { start: generationOf(path[0]), ids: path.map(hashOf) };
}

/** The revisions a `_revisions` field names, newest first; null when it does not fit `rev`. */
export function pathFromRevisions(rev: string, revisions: unknown): string[] | null {
  const r = revisions as { start?: unknown; ids?: unknown };
  if (typeof r !== 'object' || r === null || !Number.isSafeInteger(r.start) || !Array.isArray(r.ids)) return null;
  const start = r.start as number;
  const ids = r.ids as unknown[];
  if (ids.length === 0 || ids.length > start || !ids.every((id) => typeof id === 'string' && /^[0-9a-zA-Z_-]{1,64}$/.test(id))) return null;
  const path = ids.map((id, i) => `${start - i}-${id as string}`);
  return path[0] === rev ? path : null;
}

/**
 * Revisions to drop so that no leaf keeps more than `limit` revisions on its path (CouchDB's stemming):
 * every node that is not among the `limit` newest ancestors of some leaf.
 */
export function stemmed(nodes: RevNode[], limit: number): string[] {
  const byRev = new Map(nodes.map((n) => [n.rev, n]));
  const keep = new Set<string>();
  for (const leaf of leavesOf(nodes)) for (const rev of ancestry(byRev, leaf.rev, limit)) keep.add(rev);
  return nodes.filter((n) => !keep.has(n.rev)).map((n) => n.rev);
}

/** Leaves descending from `rev` (itself when it is one): what `latest=true` answers for it. */
export function latestFrom(nodes: RevNode[], rev: string): RevNode[] {
  const byRev = new Map(nodes.map((n) => [n.rev, n]));
  return leavesOf(nodes).filter((leaf) => ancestry(byRev, leaf.rev).includes(rev));
}
