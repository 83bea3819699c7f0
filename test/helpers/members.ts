import { randomBytes } from 'node:crypto';
import type { TestApp } from './app.js';

/**
 * `count` IDs that are valid collection members in `ns`/`project`. For now any non-empty string is, so these
 * are made up; once the node tree exists this uploads real files and returns their node IDs. Tests must not
 * depend on the IDs' shape.
 */
export async function memberIds(
  _t: TestApp,
  _headers: Record<string, string>,
  _ns: string,
  _project: string,
  count: number,
): Promise<string[]> {
  return Array.from({ length: count }, () => `node-${randomBytes(6).toString('hex')}`);
}
