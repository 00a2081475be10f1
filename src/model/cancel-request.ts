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

/**
 * Leaves the request: `made` by this call, or `there` already (another
 * cancel's). `refused` when it cannot be left: the run dir's .modelrun is
 * not a folder of its own (a link), or something other than a file (a
 * FIFO, a folder, a link a model put there) holds its name, which the
 * process that runs the run would never take for a request.
 */
async function requestCancel(stagingDir: string): Promise<'made' | 'there' | 'refused'> {
  const left = await inOwnFolder(stagingDir, async (folder) => {
    const path = join(folder, CANCEL_REQUEST);
    try {
      // Exclusive: an existing request (another cancel) stands, and a link there is not written through.
      const file = await open(
        path,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
        0o600,
      );
      await file.writeFile(
        `${JSON.stringify({ pid: process.pid, at: new Date().toISOString() })}\n`,
      );
      await file.close();
      return 'made' as const;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const there = await lstat(path).catch(() => undefined);
      return there?.isFile() === true ? ('there' as const) : ('refused' as const);
    }
  });
  return left ?? 'refused';
}

/**
 * One cancel's request: left when asked, and withdrawn (only when this
 * cancel made it) should the run turn out to have ended before anything
 * was stopped: a request left behind would be taken for a cancel of the
 * postprocessing that the next `wait` still has to do.
 */
export function cancelRequester(stagingDir: string) {
  let made = false;
  return {
    /** Whether the request is there now, for the process that runs the run to see. */
    async ask(): Promise<boolean> {
      const left = await requestCancel(stagingDir);
      if (left === 'made') made = true;
      return left !== 'refused';
    },
    async withdraw(): Promise<void> {
      if (made) await clearCancelRequest(stagingDir);
      made = false;
    },
  };
}

export type CancelRequester = ReturnType<typeof cancelRequester>;

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
