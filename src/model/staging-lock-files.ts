import { rm, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** The staging lock: a directory its holder touches every few seconds (see staging-lock.ts). */
export const LOCK_PATH = join('.modelrun', 'run.lock');
/** Who holds the lock, for the message a second run gets. Beside the lock, which must stay an empty directory. */
export const LOCK_OWNER_PATH = join('.modelrun', 'run.lock.owner');

const CLOCK_MARGIN_MS = 2000;

/**
 * Removes the staging lock of a run whose modelrun died at `diedAt` (ms since
 * the epoch), so that the next run need not wait for it to go stale. A lock
 * touched after that moment belongs to a run that has since taken it over,
 * and is kept. Its holder may have dated it up to a second ahead (the lock
 * library rounds up to whole seconds), and a takeover waits for the lock to
 * be stale for 15 s: a margin of 2 s tells the two apart.
 */
export async function releaseAbandonedLock(stagingDir: string, diedAt: number): Promise<void> {
  const lock = join(stagingDir, LOCK_PATH);
  const touched = await stat(lock).then(
    (s) => s.mtimeMs,
    () => undefined,
  );
  if (touched === undefined || touched > diedAt + CLOCK_MARGIN_MS) return;
  await rm(join(stagingDir, LOCK_OWNER_PATH), { force: true });
  await rmdir(lock);
}
