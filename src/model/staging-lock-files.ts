import { lstat, rm, rmdir, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { readOwnFile } from '../exec/link-safe.js';
import { isRecord } from '../records.js';
import { pinBookkeepingFolder } from './bookkeeping.js';

/** The staging lock: a directory its holder touches every few seconds (see staging-lock.ts). */
export const LOCK_PATH = join('.modelrun', 'run.lock');
/** Who holds the lock, for the message a second run gets. Beside the lock, which must stay an empty directory. */
export const LOCK_OWNER_PATH = join('.modelrun', 'run.lock.owner');

/** How long a staging lock lives untouched before it counts as a dead run's, and is taken over. */
export const LOCK_STALE_MS = 15_000;

/**
 * Who holds the staging lock of `stagingDir` now ("modelrun (pid 12 on
 * node1)"; "a modelrun" when its owner file cannot be read), or undefined when nobody
 * does: there is no lock, or it has gone stale.
 */
export async function lockHolder(stagingDir: string): Promise<string | undefined> {
  const lock = await lstat(join(stagingDir, LOCK_PATH)).catch(() => undefined);
  if (!lock?.isDirectory() || Date.now() - lock.mtimeMs >= LOCK_STALE_MS) return undefined;
  const owner = await readLockOwner(join(stagingDir, LOCK_OWNER_PATH));
  return owner === undefined ? 'a modelrun' : `modelrun (pid ${owner.pid} on ${owner.host})`;
}

/** What the lock's owner file (at `path`) says of its holder; undefined when it cannot be read as that. */
export async function readLockOwner(
  path: string,
): Promise<{ pid: number; host: string; since?: string } | undefined> {
  const text = await readOwnFile(path).catch(() => undefined);
  let owner: unknown;
  try {
    owner = JSON.parse(text ?? '');
  } catch {
    return undefined;
  }
  if (!isRecord(owner) || typeof owner.pid !== 'number' || typeof owner.host !== 'string')
    return undefined;
  return {
    pid: owner.pid,
    host: owner.host,
    ...(typeof owner.since === 'string' ? { since: owner.since } : {}),
  };
}

const CLOCK_MARGIN_MS = 2000;

/**
 * Removes the staging lock of a run whose modelrun died at `diedAt` (ms since
 * the epoch), so that the next run need not wait for it to go stale. A lock
 * touched after that moment belongs to a run that has since taken it over,
 * and is kept. Its holder may have dated it up to a second ahead (the lock
 * library rounds up to whole seconds), and a takeover waits for the lock to
 * be stale for 15 s: a margin of 2 s tells the two apart.
 */
export async function releaseAbandonedLock(
  stagingDir: string,
  diedAt: number,
  pid?: number,
): Promise<void> {
  // A .modelrun that became a link holds no lock of this run's: nothing there is to remove.
  // The folder is held open while its lock is looked at and removed (see PinnedFolder).
  const pinned = await pinBookkeepingFolder(stagingDir, { create: false }).catch(() => undefined);
  if (pinned === undefined) return;
  try {
    await releaseIn(pinned.path, diedAt, pid);
  } finally {
    await pinned.close();
  }
}

async function releaseIn(folder: string, diedAt: number, pid: number | undefined): Promise<void> {
  const lock = join(folder, basename(LOCK_PATH));
  const owner = join(folder, basename(LOCK_OWNER_PATH));
  const touched = await stat(lock).then(
    (s) => s.mtimeMs,
    () => undefined,
  );
  // On a signal it does not handle itself (SIGQUIT), modelrun dies through
  // the lock library's exit hook, which removes the lock but not the owner
  // file beside it. That file goes only if it names the dead modelrun: a
  // later run may have taken the lock since and written its own.
  if (touched === undefined) {
    if (pid !== undefined && (await ownedBy(owner, pid))) await rm(owner, { force: true });
    return;
  }
  if (touched > diedAt + CLOCK_MARGIN_MS) return;
  await rm(owner, { force: true });
  await rmdir(lock);
}

/** Does the owner file name modelrun `pid` on this host? */
async function ownedBy(owner: string, pid: number): Promise<boolean> {
  const named = await readLockOwner(owner);
  return named?.pid === pid && named.host === hostname();
}
