// Why a folder could not be made. A recursive mkdir on a read-only file system answers ENOENT
// (Node stops at the first missing part), which sends people looking for a missing folder; the
// nearest part of the path that exists says the real cause.
import { access, stat } from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';

const CAUSES: { readonly [code: string]: string } = {
  EROFS: 'on a read-only file system (EROFS)',
  EACCES: 'not writable by this user (EACCES)',
  EPERM: 'not writable (EPERM)',
};

/** The cause of a failed mkdir of `dir`, in words: the nearest existing ancestor's writability first. */
export async function whyNoFolder(dir: string, err: unknown): Promise<string> {
  const original = err instanceof Error ? err.message : String(err);
  let existing = path.resolve(dir);
  // bounded by the path's depth: each step goes one part up, and the root exists
  while (!(await stat(existing).then(() => true, () => false))) {
    const parent = path.dirname(existing);
    if (parent === existing) return original;
    existing = parent;
  }
  if (!(await stat(existing)).isDirectory()) return `${existing} is a file, not a folder (ENOTDIR)`;
  try {
    await access(existing, constants.W_OK);
  } catch (accessErr) {
    const cause = CAUSES[(accessErr as NodeJS.ErrnoException).code ?? ''];
    if (cause !== undefined) return `${existing} is ${cause}`;
  }
  return original;
}
