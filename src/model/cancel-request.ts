import { constants } from 'node:fs';
import { lstat, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { RunFailedError } from '../errors.js';
import { inBookkeepingFolder } from './bookkeeping.js';
import { MODELRUN_DIR } from './staging-dir.js';

/**
 * `modelrun cancel` asks a run to stop by leaving this file in its
 * .modelrun/; the process that runs it (the CLI, a detached supervisor, a
 * program using the library) looks for it and stops the run as Ctrl-C
 * would, recording it cancelled. No process is ever signalled on the word
 * of a file, which a model can write.
 */
const CANCEL_REQUEST = 'cancel-request';

const requestPath = (stagingDir: string) => join(stagingDir, MODELRUN_DIR, CANCEL_REQUEST);

/** Leaves the request; false when the run dir's .modelrun is not a folder of its own (a link). */
export async function requestCancel(stagingDir: string): Promise<boolean> {
  const left = await inOwnFolder(stagingDir, async (folder) => {
    try {
      // Exclusive: an existing request (another cancel) stands, and a link there is not written through.
      const file = await open(
        join(folder, CANCEL_REQUEST),
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
        0o600,
      );
      await file.writeFile(
        `${JSON.stringify({ pid: process.pid, at: new Date().toISOString() })}\n`,
      );
      await file.close();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    return true;
  });
  return left === true;
}

/** Whether a request is there: a regular file, nothing else. */
export async function cancelRequested(stagingDir: string): Promise<boolean> {
  const found = await lstat(requestPath(stagingDir)).catch(() => undefined);
  return found?.isFile() === true;
}

/** Removes a request, left by a cancel of an earlier run or answered; a link is removed, never followed. */
export async function clearCancelRequest(stagingDir: string): Promise<void> {
  await inOwnFolder(stagingDir, (folder) =>
    unlink(join(folder, CANCEL_REQUEST)).catch(() => undefined),
  );
}

/** `change` in the run's .modelrun held open; nothing when it is not there, or not a folder of its own. */
function inOwnFolder<T>(stagingDir: string, change: (folder: string) => Promise<T>) {
  return inBookkeepingFolder(stagingDir, change, { create: false }).catch((error: unknown) => {
    if (error instanceof RunFailedError) return undefined;
    throw error;
  });
}
