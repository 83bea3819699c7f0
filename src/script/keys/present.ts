import type { ScriptKey } from './repo.js';
import type { Key } from './schemas.js';

export function presentKey(key: ScriptKey): Key {
  return {
    id: key.id,
    ...(key.name !== null && { name: key.name }),
    prefix: key.prefix,
    ...(key.projects !== null && { projects: key.projects }),
    readOnly: key.readOnly,
    admin: key.admin,
    createdAt: key.createdAt,
  };
}
