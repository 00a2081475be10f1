import { lstat, realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';

/**
 * What archive and checksum share about writing inside the run directory:
 * a model (one in a container above all) may have made any folder there a
 * symlink to anywhere, so a file modelrun writes there goes through real
 * folders only.
 */

/**
 * The first part of `path` (relative to `root`, "/"-separated) that is a
 * symlink, the last part included; undefined when there is none among the
 * parts that exist.
 */
export async function symlinkOnTheWay(root: string, path: string): Promise<string | undefined> {
  const parts = path.split('/');
  for (let depth = 1; depth <= parts.length; depth++) {
    const prefix = parts.slice(0, depth).join('/');
    // Missing or unreadable: nothing further on exists to lead anywhere, and the write itself says what is wrong.
    const stats = await lstat(join(root, prefix)).catch(() => undefined);
    if (stats === undefined || !stats.isDirectory()) {
      return stats?.isSymbolicLink() ? prefix : undefined;
    }
  }
  return undefined;
}

/**
 * `destination` relative to the run directory `root` when it lies inside,
 * read as written (not through links, which are what is checked): compared
 * with the run directory as given and as realpath gives it, so that a
 * symlinked /tmp or home folder cannot hide that it is inside.
 */
export async function pathInRun(root: string, destination: string): Promise<string | undefined> {
  const target = resolve(destination);
  const roots = [resolve(root), await realpath(root).catch(() => resolve(root))];
  for (const base of roots) {
    const path = relative(base, target);
    if (path !== '' && !isAbsolute(path) && !path.split('/').includes('..')) return path;
  }
  return undefined;
}
