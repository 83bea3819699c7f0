import { analyzeTables, dialectOf } from '../core/db/dialect.js';
import type { ScriptDb } from './db.js';

const FIRST = 5000;
const TRACKED = 1000;

/**
 * PostgreSQL plans with the statistics of a table's last ANALYZE. Autovacuum refreshes them within minutes,
 * but a bulk load into a project (a first replication of 100,000 documents) runs meanwhile against a project
 * the planner believes tiny: looking up a batch of _ids then scans the whole project (measured: 18 ms
 * instead of 0.7 ms per 400 ids at 60,000 documents). So this process analyzes the document tables itself,
 * in the background and one at a time, once it has written 5,000 documents into a project, then each time
 * it has written as many again into it as in all before (a handful of times per load, whatever its size).
 */
export class PlannerStats {
  private readonly written = new Map<number, { since: number; total: number }>();
  private running = false;

  constructor(private readonly db: ScriptDb) {}

  /** `n` documents of project `projectId` were just written (committed). */
  wrote(projectId: number, n: number): void {
    if (dialectOf(this.db) !== 'postgres') return;
    if (this.written.size >= TRACKED && !this.written.has(projectId)) this.written.clear();
    const counts = this.written.get(projectId) ?? { since: 0, total: 0 };
    this.written.set(projectId, counts);
    counts.since += n;
    if (this.running || counts.since < Math.max(FIRST, counts.total)) return;
    counts.total += counts.since;
    counts.since = 0;
    this.running = true;
    analyzeTables(this.db, ['script_documents', 'script_revisions'])
      .catch(() => {}) // only an optimisation; autovacuum does it anyway
      .finally(() => (this.running = false));
  }
}
