import { constants, type Stats } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { posix } from 'node:path';
import { type LeftOut, leftOutBecause } from './left-out.js';
import type { SelectedEntry } from './select-files.js';

/**
 * Opens a chosen file and checks it is still the regular file that was
 * chosen. O_NOFOLLOW refuses a file swapped for a symlink since, and
 * O_NONBLOCK keeps one swapped for a FIFO from hanging the open.
 */
export async function openRegular(
  stagingDir: string,
  entry: SelectedEntry,
): Promise<{ handle: FileHandle; stats: Stats } | LeftOut> {
  const flags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
  const handle = await open(posix.join(stagingDir, entry.path), flags).catch(
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'EACCES' || error.code === 'EPERM')
        return leftOutBecause(entry.path, `cannot be read: ${error.code}`);
      throw unreadable(entry.path, error);
    },
  );
  if ('reason' in handle) return handle;
  const stats = await handle.stat();
  if (!stats.isFile() || stats.ino !== entry.stats.ino || stats.dev !== entry.stats.dev) {
    await handle.close();
    throw unreadable(entry.path, new Error('it was replaced since it was chosen'));
  }
  return { handle, stats };
}

export function unreadable(name: string, error: Error): Error {
  return new Error(
    `cannot read ${name} in the run directory (${error.message}); check that nothing else changes the outputs while modelrun reads them`,
  );
}
