import { constants, existsSync } from 'node:fs';
import { lstat, mkdir, open, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { RunFailedError } from '../errors.js';
import { MODELRUN_DIR } from './staging-dir.js';

function notOurs(path: string, what: string): RunFailedError {
  return new RunFailedError(
    `${path} is ${what}, not modelrun's folder: something put it there during the run, and modelrun never writes or removes through a link, so the run's record there was not updated`,
    {
      hint: `remove ${path}, which is not modelrun's, and keep the model away from ${MODELRUN_DIR}/`,
    },
  );
}

/** What is at `path` when it is there and not a folder itself: "a symlink to …", "a file", "a special file". */
export async function notAFolder(path: string): Promise<string | undefined> {
  const info = await lstat(path).catch(() => undefined);
  if (info === undefined || info.isDirectory()) return undefined;
  if (info.isSymbolicLink()) return `a symlink to ${await readlink(path).catch(() => '?')}`;
  return info.isFile() ? 'a file' : 'a special file';
}

/**
 * The run's own folder in its staging dir, `.modelrun/`, held open as
 * itself for one change, with a path that leads to that very folder for as
 * long as the change lasts. The model runs in the same folder and can put
 * anything in its place while it runs: a link there (a container's root
 * making one to a path of the host, say) would have the record written, or
 * the lock removed, wherever it points, and a check and then a write by
 * name would leave a moment for one. So the folder is opened without
 * following a link, and anything but a folder is refused: the error says
 * what is there, and nothing is written.
 */
export interface PinnedFolder {
  /** Where to write: `/proc/self/fd/N` on Linux, else the folder's path, checked just before. */
  readonly path: string;
  /** The folder's own path, for messages. */
  readonly shown: string;
  close(): Promise<void>;
}

let procFds: boolean | undefined;

/**
 * Opens the run's `.modelrun/` (made when missing, with `create`) without
 * following a link: undefined when it is not there and not to be made; the
 * error that says what is there when something else is in its place.
 */
export async function pinBookkeepingFolder(stagingDir: string): Promise<PinnedFolder>;
export async function pinBookkeepingFolder(
  stagingDir: string,
  options: { create?: boolean },
): Promise<PinnedFolder | undefined>;
export async function pinBookkeepingFolder(
  stagingDir: string,
  { create = true }: { create?: boolean } = {},
): Promise<PinnedFolder | undefined> {
  return pinFolder(join(stagingDir, MODELRUN_DIR), { create });
}

/** As pinBookkeepingFolder, for the folder at `shown` itself (the one a record path names). */
export async function pinFolder(
  shown: string,
  {
    create,
    parents = true,
    refuse = notOurs,
  }: {
    create: boolean;
    /** With `create`, make the folders it is in too; without, a missing one is ENOENT. */
    parents?: boolean;
    refuse?: (shown: string, what: string) => Error;
  },
): Promise<PinnedFolder | undefined> {
  // Something else already there (a FIFO, a file) is refused at the open below, by what it is.
  if (create)
    await mkdir(shown, { recursive: parents }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  const handle = await open(
    shown,
    constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW,
  ).catch(async (error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' && !create) return undefined;
    if (error.code !== 'ELOOP' && error.code !== 'ENOTDIR') throw error;
    // What is there now; it may already have changed again since the open.
    throw refuse(shown, (await notAFolder(shown)) ?? 'something else than a folder at times');
  });
  if (handle === undefined) return undefined;
  return { path: heldPath(handle.fd, shown), shown, close: () => handle.close() };
}

/**
 * A path that leads to the folder open as `fd` while it stays open:
 * `/proc/self/fd/N`, on Linux; `shown`, its own path, where /proc is not
 * mounted.
 */
export function heldPath(fd: number, shown: string): string {
  procFds ??= existsSync(`/proc/self/fd/${fd}`);
  return procFds ? `/proc/self/fd/${fd}` : shown;
}

/**
 * Runs `change` on the run's `.modelrun/` held open (see PinnedFolder), and
 * closes it after; errors name the folder's own path. Undefined, with
 * nothing run, when the folder is not there and not to be made.
 */
export async function inBookkeepingFolder<T>(
  stagingDir: string,
  change: (folder: string) => Promise<T>,
  { create = true, parents = true }: { create?: boolean; parents?: boolean } = {},
): Promise<T | undefined> {
  return inFolder(join(stagingDir, MODELRUN_DIR), change, { create, parents });
}

/** As inBookkeepingFolder, for the folder at `shown` itself. */
export async function inFolder<T>(
  shown: string,
  change: (folder: string) => Promise<T>,
  options: { create: boolean; parents?: boolean },
): Promise<T | undefined> {
  const pinned = await pinFolder(shown, options);
  if (pinned === undefined) return undefined;
  try {
    return await change(pinned.path);
  } catch (error) {
    throw shownAt(error, pinned);
  } finally {
    await pinned.close();
  }
}

/** An error from a change in a pinned folder, naming the folder by its own path, not /proc's. */
export function shownAt(error: unknown, pinned: PinnedFolder): unknown {
  if (pinned.path === pinned.shown || !(error instanceof Error)) return error;
  const swap = (text: string) => text.replaceAll(pinned.path, pinned.shown);
  error.message = swap(error.message);
  const errno = error as NodeJS.ErrnoException & { dest?: string; hint?: string };
  if (typeof errno.path === 'string') errno.path = swap(errno.path);
  if (typeof errno.hint === 'string') errno.hint = swap(errno.hint);
  if (typeof errno.dest === 'string') errno.dest = swap(errno.dest);
  return error;
}
