import { rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RunFailedError } from '../errors.js';
import { replaceFile } from '../exec/link-safe.js';
import type { Guard } from '../guardian/tasks.js';
import { notAFolder, pinBookkeepingFolder, shownAt } from './bookkeeping.js';
import { LOCK_OWNER_PATH, LOCK_PATH, LOCK_STALE_MS, readLockOwner } from './staging-lock-files.js';

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
    // modelrun's lock is a folder. Anything else there (a model's FIFO, file or link) would
    // pass for a lock held until it went stale, and is not modelrun's to remove then.
    const other = await notAFolder(lockfilePath);
    if (other !== undefined) {
      const shown = join(stagingDir, LOCK_PATH);
      throw new RunFailedError(`${shown} is ${other}, not modelrun's staging lock (a folder)`, {
        hint: `a run's model may have put it there: remove ${shown} once no modelrun uses ${stagingDir}, and keep the model away from .modelrun/`,
      });
    }
    // Loaded when a lock is taken, not with the module: proper-lockfile
    // patches fs (graceful-fs) and hooks process signals (signal-exit) as
    // it loads, which importing modelrun as a library must not do.
    const { lockfile } = await import('./lockfile.js');
    release = await lockfile.lock(stagingDir, {
      lockfilePath,
      realpath: false,
      stale: LOCK_STALE_MS,
      update: 5_000,
      retries: 0,
      onCompromised: (error: Error) => onCompromised(shownAt(error, pinned) as Error),
    });
  } catch (error) {
    await pinned.close();
    if (error instanceof RunFailedError) throw error;
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw shownAt(error, pinned);
    const owner = await readLockOwner(join(stagingDir, LOCK_OWNER_PATH));
    const who =
      owner === undefined ? '' : ` (pid ${owner.pid} on ${owner.host}, since ${owner.since})`;
    // Killed a moment ago: its guardian gives the lock back once it has stopped what the run started.
    if (owner !== undefined && owner.host === hostname() && !processExists(owner.pid))
      throw new LockHeldError(`the modelrun that used ${stagingDir}${who} has ended`, {
        hint: `its guardian releases the lock once it has stopped what that run started, and the lock goes stale ${LOCK_STALE_MS / 1000} s after its last sign of life anyway: run again in a moment`,
      });
    throw new LockHeldError(`another modelrun is using ${stagingDir}${who}`, {
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
        // A lock the model replaced (a file, a FIFO, a link in its place) is no longer modelrun's to
        // remove; one it removed was found lost (ERELEASED) and said so as it was.
        await release().catch((error: NodeJS.ErrnoException) => {
          if (!['ENOTDIR', 'ENOENT', 'ERELEASED'].includes(error.code ?? ''))
            throw shownAt(error, pinned);
        });
      } finally {
        await pinned.close();
      }
      unguard?.();
    },
  };
}

/** How often a wait for the staging lock looks again while another modelrun holds it. */
const LOCK_POLL_MS = 250;

export interface LockWait {
  onCompromised: (error: Error) => void;
  guard?: Guard;
  /** Told once, the first time the lock is found held (who holds it). */
  onHeld?: (error: LockHeldError) => void;
  /** Gives up, with the LockHeldError, after this long. */
  withinMs?: number;
  /** Gives up, with undefined, once this aborts. */
  signal?: AbortSignal;
}

/**
 * The staging lock, waited for while another modelrun holds it: undefined
 * once `signal` aborts, the error that says who holds it after `withinMs`.
 */
export async function waitForStagingLock(
  stagingDir: string,
  { onCompromised, guard, onHeld, withinMs, signal }: LockWait,
): Promise<StagingLock | undefined> {
  const until = withinMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + withinMs;
  let told = false;
  for (;;) {
    if (signal?.aborted) return undefined;
    try {
      return await lockStagingDir(stagingDir, onCompromised, guard);
    } catch (error) {
      if (!(error instanceof LockHeldError) || Date.now() >= until) throw error;
      if (!told) onHeld?.(error);
      told = true;
    }
    await sleep(LOCK_POLL_MS, undefined, { signal }).catch(() => undefined);
  }
}

/** Whether a process of this pid runs on this host (one of another user's counts). */
function processExists(pid: number): boolean {
  // Not a process's own pid (0, 1, -1: a group, or every process): not told apart.
  if (!Number.isSafeInteger(pid) || pid <= 1) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
