import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writing modelrun's own files in a run directory, which a model (one in a
 * container above all) or a template may have filled with symlinks: a file
 * is replaced or opened, never written through a link to somewhere else.
 */

/** Opening a file to write it, refusing a final symlink (ELOOP) and never blocking on a FIFO (ENXIO). */
export const WRITE_NO_FOLLOW =
  constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * Writes `data` to `path` by a new file in the same folder and a rename:
 * a reader never sees half of it, and whatever was at `path` (a link
 * included) is replaced, not followed. write-file-atomic cannot do this: it
 * resolves `path` through links first, and takes the owner of the target.
 */
export async function replaceFile(
  path: string,
  data: string | Uint8Array,
  mode = 0o644,
): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  // 'wx' creates the temp file afresh: O_EXCL refuses anything already there, a link too.
  const handle = await open(temp, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    await rename(temp, path);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * Opens `path` to write, creating it, or gives why not: a symlink, a FIFO,
 * a device, or a file that also has another name (a hard link, which
 * writing would change in both places). The file is truncated only once it
 * is known to be a plain file of its own.
 */
export async function openOwnFile(path: string, mode = 0o644): Promise<FileHandle | string> {
  const handle = await open(path, WRITE_NO_FOLLOW, mode).catch(
    (error: NodeJS.ErrnoException) => error,
  );
  if (handle instanceof Error) {
    if (handle.code === 'ELOOP')
      return `${path} is a symlink, which modelrun does not write through`;
    if (handle.code === 'ENXIO') return `${path} is a FIFO, not a file`;
    throw handle;
  }
  const stats = await handle.stat();
  const problem = !stats.isFile()
    ? `${path} is not a regular file`
    : stats.nlink > 1
      ? `${path} is a hard link to another file, which modelrun does not write through`
      : undefined;
  if (problem !== undefined) {
    await handle.close();
    return problem;
  }
  // Not when empty already: on ext4, truncating to zero makes closing the
  // file write out all that was written to it (auto_da_alloc), which held
  // the end of a run that printed a lot by as long as its output took.
  if (stats.size > 0) await handle.truncate(0);
  return handle;
}

/**
 * The text of the regular file at `path` itself, not through a link;
 * undefined when it is a symlink or anything but a regular file. It throws
 * when there is nothing to read.
 */
export async function readOwnFile(path: string): Promise<string | undefined> {
  const flags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
  const file = await open(path, flags).catch((error: NodeJS.ErrnoException) => error);
  if (file instanceof Error) {
    if (file.code === 'ELOOP') return undefined;
    throw file;
  }
  try {
    return (await file.stat()).isFile() ? await file.readFile('utf8') : undefined;
  } finally {
    await file.close();
  }
}
