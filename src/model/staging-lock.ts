import { readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { RunFailedError } from '../errors.js';
import { replaceFile } from '../exec/link-safe.js';
import type { Guard } from '../guardian/tasks.js';
import { pinBookkeepingFolder, shownAt } from './bookkeeping.js';
import { LOCK_OWNER_PATH, LOCK_PATH } from './staging-lock-files.js';

/** The staging lock is another modelrun's: what a caller that waits for it waits on. */
export class LockHeldError extends RunFailedError {}

export interface StagingLock {
  release(): Promise<void>;
}

/**
 * Takes the staging directory for one run. The lock is a directory that the
 * holder touches every few seconds, so a run that died (kill -9, a lost
 * node) leaves a lock that goes stale and is taken over, not one that
 * blocks the folder forever. With a guard, modelrun's guardian releases the
 * lock of a run that died at once, once it has stopped what the run started.
 */
export async function lockStagingDir(
  stagingDir: string,
  onCompromised: (error: Error) => void,
  guard?: Guard,
): Promise<StagingLock> {
  // Held open while the lock is: the lock and its owner file are made, touched and
  // removed in this very folder, whatever the model puts at .modelrun meanwhile.
  const pinned = await pinBookkeepingFolder(stagingDir);
  const lockfilePath = join(pinned.path, basename(LOCK_PATH));
  const ownerFile = join(pinned.path, basename(LOCK_OWNER_PATH));
  let release: () => Promise<void>;
  try {
    // Loaded when a lock is taken, not with the module: proper-lockfile
    // patches fs (graceful-fs) and hooks process signals (signal-exit) as
    // it loads, which importing modelrun as a library must not do.
    const { lockfile } = await import('./lockfile.js');
    release = await lockfile.lock(stagingDir, {
      lockfilePath,
      realpath: false,
      stale: 15_000,
      update: 5_000,
      retries: 0,
      onCompromised: (error: Error) => onCompromised(shownAt(error, pinned) as Error),
    });
  } catch (error) {
    await pinned.close();
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw shownAt(error, pinned);
    const owner = await readFile(join(stagingDir, LOCK_OWNER_PATH), 'utf8')
      .then((text) => JSON.parse(text) as { pid: number; host: string; since: string })
      .then((o) => ` (pid ${o.pid} on ${o.host}, since ${o.since})`)
      .catch(() => '');
    throw new LockHeldError(`another modelrun is using ${stagingDir}${owner}`, {
      hint: 'wait for it to finish, or give this run another run_id; two runs never share a staging directory',
    });
  }
  try {
    // Replaced, not written through: an earlier run's model may have left a link here.
    await replaceFile(
      ownerFile,
      JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }),
    );
  } catch (error) {
    // A full disk: give the lock back rather than leave it to go stale.
    await rm(ownerFile, { force: true });
    await release();
    await pinned.close();
    throw shownAt(error, pinned);
  }
  const unguard = guard?.({ kind: 'staging-lock', stagingDir, pid: process.pid });
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      // In the folder the lock was made in, which is modelrun's wherever it is now.
      try {
        await rm(ownerFile, { force: true });
        // A lock the model replaced (a file, a FIFO, a link in its place) is no longer modelrun's to remove.
        await release().catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOTDIR' && error.code !== 'ENOENT') throw shownAt(error, pinned);
        });
      } finally {
        await pinned.close();
      }
      unguard?.();
    },
  };
}
