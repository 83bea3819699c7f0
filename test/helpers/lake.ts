import type { TestApp } from './app.js';

export type Headers = Record<string, string>;

export interface LabProject {
  alice: Headers;
  /** Signed in (so he exists), but no member of alice's namespace. */
  bob: Headers;
  projectId: string;
  /** URL of alice's project "lab". */
  base: string;
}

/** The usual start of a DreamLake test: users alice and bob, and alice's project "Lab". */
export async function labProject(t: TestApp): Promise<LabProject> {
  const alice = await t.auth('alice');
  const bob = await t.auth('bob');
  await t.inject({ method: 'GET', url: '/auth/me', headers: bob });
  const res = await t.inject({ method: 'POST', url: '/namespaces/alice/projects', headers: alice, payload: { name: 'Lab' } });
  return { alice, bob, projectId: res.json().id, base: '/namespaces/alice/projects/lab' };
}
