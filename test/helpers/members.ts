import { randomBytes } from 'node:crypto';
import type { TestApp } from './app.js';

/**
 * `count` IDs that are valid collection members in `ns`/`project`: real files, uploaded with
 * PUT …/files/…, whose node IDs are returned in upload order. Tests must not depend on the IDs' shape.
 */
export async function memberIds(
  t: TestApp,
  headers: Record<string, string>,
  ns: string,
  project: string,
  count: number,
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 10) {
    const batch = Array.from({ length: Math.min(10, count - i) }, async () => {
      const name = randomBytes(6).toString('hex');
      const res = await t.inject({
        method: 'PUT',
        url: `/namespaces/${ns}/projects/${project}/files/members/${name}.bin`,
        headers: { ...headers, 'content-type': 'application/octet-stream' },
        payload: randomBytes(16),
      });
      if (res.statusCode !== 201) throw new Error(`memberIds: upload answered ${res.statusCode} ${res.body}`);
      return res.json().id as string;
    });
    ids.push(...(await Promise.all(batch)));
  }
  return ids;
}
