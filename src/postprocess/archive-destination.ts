import { constants } from 'node:fs';
import { lstat, open, realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative } from 'node:path';
import { ARCHIVE_MARK, gzipCommentStartsWith, zipCommentStartsWith } from './archive-sink.js';

/**
 * Why the archive cannot be written at `destination`, or undefined when it
 * can. The destination is the user's to choose and may lie anywhere, but
 * modelrun replaces only a file it wrote itself: an archive that carries its
 * mark. Anything else there (a file of the user's, a folder, a device such as
 * /dev/full, a symlink) is refused rather than overwritten.
 */
export async function destinationProblem(destination: string): Promise<string | undefined> {
  const stats = await lstat(destination).catch((error: NodeJS.ErrnoException) => error);
  if (stats instanceof Error) {
    // Missing, or under a file: the folder step says what is wrong with the latter.
    if (stats.code === 'ENOENT' || stats.code === 'ENOTDIR') return undefined;
    return `cannot check the destination ${destination}: ${stats.message}; check the permissions of its folder, or set destination to a writable place`;
  }
  const refuse = (what: string, fix: string) => `the destination ${destination} ${what}; ${fix}`;
  if (stats.isDirectory())
    return refuse(
      'is a folder',
      `give a file name in it, such as ${join(destination, 'outputs.tar.gz')}`,
    );
  if (stats.isSymbolicLink())
    return refuse(
      'is a symlink, which modelrun does not write through',
      'give the path it points to, or remove the link',
    );
  if (!stats.isFile())
    return refuse(
      'is not a regular file (a device, FIFO or socket)',
      'choose a file path for destination',
    );
  if (!(await isModelrunArchive(destination)))
    return refuse(
      'already exists and is not an archive modelrun wrote, so it is not overwritten',
      'remove or rename it, or choose another destination',
    );
  return undefined;
}

/** Whether `path` is a tar.gz or zip that modelrun wrote: its gzip header or zip comment carries the mark. */
export async function isModelrunArchive(path: string): Promise<boolean> {
  const flags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
  const handle = await open(path, flags).catch(() => undefined);
  if (handle === undefined) return false;
  try {
    const { size } = await handle.stat();
    const head = Buffer.alloc(Math.min(size, 64));
    await handle.read(head, 0, head.length, 0);
    if (gzipCommentStartsWith(head, ARCHIVE_MARK)) return true;
    // A zip ends with a 22-byte record and a comment of at most 65535 bytes.
    const tail = Buffer.alloc(Math.min(size, 22 + 0xffff));
    await handle.read(tail, 0, tail.length, size - tail.length);
    return zipCommentStartsWith(tail, ARCHIVE_MARK);
  } finally {
    await handle.close();
  }
}

/**
 * The destination as a path relative to the staging directory, when it lies
 * inside it. Both are compared through realpath, so that a symlinked /tmp or
 * home folder cannot hide that they are the same place.
 */
export async function pathInside(stagingDir: string, destination: string): Promise<string[]> {
  const realStaging = await realpath(stagingDir);
  const realDestination = join(await realpath(dirname(destination)), basename(destination));
  const path = relative(realStaging, realDestination);
  const inside = path !== '' && !isAbsolute(path) && !path.split('/').includes('..');
  return inside ? [path] : [];
}
