import { analyzeTables, dialectOf } from '../core/db/dialect.js';
import type { ScriptDb } from './db.js';

const FIRST = 5000;

/**
 * PostgreSQL plans with the statistics of a table's last ANALYZE. Autovacuum refreshes them within minutes,
 * but a bulk load (a first replication of 100,000 documents) runs meanwhile against a table the planner
 * believes tiny: looking up a batch of _ids then scans the whole project (measured: 18 ms instead of 0.7 ms
 * per 400 ids at 60,000 documents). So this process analyzes the document tables itself, in the background
 * and one at a time, once it has written 5,000 documents, then each time it has written as many again as
 * it had in all at the previous one (a handful of times per load, whatever its size).
 */
export class PlannerStats {
  private since = 0;
  private total = 0;
  private running = false;

  constructor(private readonly db: ScriptDb) {}

  /** `n` documents were just written (committed). */
  wrote(n: number): void {
    if (dialectOf(this.db) !== 'postgres') return;
    this.since += n;
    if (this.running || this.since < Math.max(FIRST, this.total)) return;
    this.total += this.since;
    this.since = 0;
    this.running = true;
    analyzeTables(this.db, ['script_documents', 'script_revisions'])
      .catch(() => {}) // only an optimisation; autovacuum does it anyway
      .finally(() => (this.running = false));
  }
}
