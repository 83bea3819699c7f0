import { CompiledQuery, type Compilable, type Kysely } from 'kysely';
import { directReadOf, type DialectName } from './database.js';
import { dialectOf } from './dialect.js';

const MARK = '\u0000param:';

type Slot<P> = { name: P } | { value: unknown };

/**
 * A query built and compiled once per dialect, then run with fresh values: on the hot reads Kysely's
 * builder and compiler cost more than the database's own work. Named placeholders (`p('userId')`) stand
 * in for the values while compiling and are swapped for them at each call; the SQL text never changes.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function preparedQuery<DB extends Kysely<any>, P extends string, R>(
  build: (db: DB, dialect: DialectName, p: (name: P) => string) => Compilable<R>,
) {
  const compiled = new Map<DialectName, { sql: string; slots: Slot<P>[] }>();
  return async (db: DB, values: Record<P, unknown>): Promise<R[]> => {
    const dialect = dialectOf(db);
    let query = compiled.get(dialect);
    if (!query) {
      const asked = new Set<P>();
      const c = build(db, dialect, (name) => (asked.add(name), MARK + name)).compile();
      const slots = c.parameters.map((v): Slot<P> => (typeof v === 'string' && v.startsWith(MARK) ? { name: v.slice(MARK.length) as P } : { value: v }));
      for (const name of asked) {
        if (!slots.some((s) => 'name' in s && s.name === name)) throw new Error(`preparedQuery: ${name} did not become a parameter`);
      }
      query = { sql: c.sql, slots };
      compiled.set(dialect, query);
    }
    const parameters = query.slots.map((s) => ('name' in s ? values[s.name] : s.value));
    const rows = directReadOf(db)?.(query.sql, parameters);
    if (rows) return rows as R[];
    return (await db.executeQuery<R>(CompiledQuery.raw(query.sql, parameters))).rows;
  };
}
