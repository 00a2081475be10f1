import { lstat, mkdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { RunFailedError } from '../errors.js';
import { MODELRUN_DIR } from './staging-dir.js';

/**
 * The run's own folder in its staging dir, `.modelrun/`, made when missing,
 * for modelrun to write or remove something in. The model runs in the same
 * folder and can put anything in its place while it runs: a link there (a
 * container's root making one to a path of the host, say) would have the
 * record written, or the lock removed, wherever it points. So the folder is
 * looked at before each such write, and anything but a folder is refused:
 * the error says what is there, and nothing is written.
 */
export async function bookkeepingFolder(stagingDir: string): Promise<string> {
  const path = join(stagingDir, MODELRUN_DIR);
  await mkdir(path, { recursive: true });
  await assertBookkeepingFolder(path);
  return path;
}

/**
 * Throws the error bookkeepingFolder gives when `path` (a run's .modelrun)
 * is there but is not a folder itself: a link, a file. A path that is not
 * there passes: there is nothing to write through.
 */
export async function assertBookkeepingFolder(path: string): Promise<void> {
  const what = await notAFolder(path);
  if (what === undefined) return;
  throw new RunFailedError(
    `${path} is ${what}, not modelrun's folder: something put it there during the run, and modelrun never writes or removes through a link, so the run's record there was not updated`,
    {
      hint: `remove ${path}, which is not modelrun's, and keep the model away from ${MODELRUN_DIR}/`,
    },
  );
}

/** Whether `path` is a folder itself, not a link to one: where a record may be read and changed. */
export async function isRealFolder(path: string): Promise<boolean> {
  return lstat(path).then(
    (info) => info.isDirectory(),
    () => false,
  );
}

/** What is at `path` when it is there and not a folder itself: "a symlink to …", "a file", "a special file". */
export async function notAFolder(path: string): Promise<string | undefined> {
  const info = await lstat(path).catch(() => undefined);
  if (info === undefined || info.isDirectory()) return undefined;
  if (info.isSymbolicLink()) return `a symlink to ${await readlink(path).catch(() => '?')}`;
  return info.isFile() ? 'a file' : 'a special file';
}
