import { createContext, useContext, type ReactNode } from 'react';
import type { paths } from '../../../client/index.js';
import { api, ok } from '../lib/api.js';
import { useCredential } from '../lib/auth.js';
import { useLoad } from '../lib/load.js';

type Key = paths['/dreamscript/key']['get']['responses'][200]['content']['application/json'];

/** Why this key may not do something, or null when it may (or while the key is still being read: the server decides). */
export interface KeyRules {
  key: Key | null;
  writeDocuments: string | null;
  /** A document outside any project (the "All documents" page creates those). */
  writeLooseDocuments: string | null;
  manageProjects: string | null;
}

const READ_ONLY = 'This API key is read-only.';
const rulesOf = (key: Key | null): KeyRules => {
  const readOnly = key?.readOnly ? READ_ONLY : null;
  const scoped = key?.projects ? 'This API key is limited to some projects' : null;
  return {
    key,
    writeDocuments: readOnly,
    writeLooseDocuments: readOnly ?? (scoped && `${scoped}: create documents inside one of them.`),
    manageProjects: readOnly ?? (scoped && `${scoped} and may not create, rename or delete projects.`),
  };
};

/** "project 3" or "projects 1, 2". */
export const projectsLabel = (projects: number[]) => `project${projects.length > 1 ? 's' : ''} ${projects.join(', ')}`;

const KeyContext = createContext<KeyRules>(rulesOf(null));

/** Reads what the kept API key may do (`GET /dreamscript/key`) once per key, for the pages below. */
export function KeyRulesProvider({ children }: { children: ReactNode }) {
  const secret = useCredential('script');
  const loaded = useLoad(() => ok(api.GET('/dreamscript/key')), [secret]);
  const rules = rulesOf(loaded.state === 'ok' ? loaded.data : null);
  const scope = [
    rules.key?.readOnly && 'This key is read-only: it can look but not change anything.',
    rules.key?.projects && `It sees only ${projectsLabel(rules.key.projects)}.`,
  ].filter(Boolean).join(' ');
  return (
    <KeyContext.Provider value={rules}>
      {scope && <p className="muted small" role="note">{scope}</p>}
      {children}
    </KeyContext.Provider>
  );
}

export const useKeyRules = () => useContext(KeyContext);

/** Props for a button this key may not use: disabled, with the reason as its tooltip. */
export const allowedBy = (reason: string | null) => ({ disabled: reason !== null, title: reason ?? undefined });
