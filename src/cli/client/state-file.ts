import { randomUUID } from 'node:crypto';
import { chmod, readFile, rename, rm, writeFile } from 'node:fs/promises';

/**
 * Replaces the file at `path` whole, or not at all: written under a name of its own, then renamed over it. The
 * name is unique per write (not just per process), so concurrent writers of one file (the workers of one run, or
 * two runs at once) never rename or truncate each other's temporary file; the last rename wins.
 */
export async function writeAtomically(path: string, text: string, mode = 0o600): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomUUID()}.tmp`;
  try {
    await writeFile(tmp, text, { mode });
    await chmod(tmp, mode); // writeFile's mode is filtered by the umask
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * A JSON state file, or null when there is none or it is not a JSON object (cut short by a crash). The caller
 * checks the fields it relies on.
 */
export async function readState<T extends object>(path: string): Promise<T | null> {
  const text = await readFile(path, 'utf8').catch(() => null);
  if (text === null) return null;
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' ? (parsed as T) : null;
  } catch {
    return null;
  }
}
