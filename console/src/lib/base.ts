/** The console's own mount, e.g. "/console/": the folder its script was loaded from, one level up from assets/. */
export const BASE: string = new URL(/* @vite-ignore */ '..', import.meta.url).pathname.replace(/\/?$/, '/');

export interface Mounts {
  lake: string | null;
  script: string | null;
  space: string | null;
  console: string;
}

let mounts: Mounts = { lake: '/', script: '/dreamscript', space: '/dreamspace', console: BASE.replace(/\/$/, '') };

export async function loadMounts(): Promise<Mounts> {
  try {
    const res = await fetch(`${BASE}config.json`, { headers: { accept: 'application/json' } });
    if (res.ok) mounts = ((await res.json()) as { mounts: Mounts }).mounts;
  } catch {
    // The defaults above: the dev server, or a server without /config.json.
  }
  return mounts;
}

export function getMounts(): Mounts {
  return mounts;
}

/** "/" → "", "/lake" → "/lake": what goes in front of the documented paths. */
export function prefix(mount: string | null): string {
  return !mount || mount === '/' ? '' : mount;
}
