import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { RunFailedError } from '../errors.js';

export const LOCK_PATH = join('.modelrun', 'run.lock');
/** Who holds the lock, for the message a second run gets. Beside the lock, which must stay an empty directory. */
export const LOCK_OWNER_PATH = join('.modelrun', 'run.lock.owner');

export interface StagingLock {
  release(): Promise<void>;
}

/**
 * Takes the staging directory for one run. The lock is a directory that the
 * holder touches every few seconds, so a run that died (kill -9, a lost
 * node) leaves a lock that goes stale and is taken over, not one that
 * blocks the folder forever.
 */
export async function lockStagingDir(
  stagingDir: string,
  onCompromised: (error: Error) => void,
): Promise<StagingLock> {
  await mkdir(join(stagingDir, '.modelrun'), { recursive: true });
  const lockfilePath = join(stagingDir, LOCK_PATH);
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(stagingDir, {
      lockfilePath,
      realpath: false,
      stale: 15_000,
      update: 5_000,
      retries: 0,
      onCompromised,
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    const owner = await readFile(join(stagingDir, LOCK_OWNER_PATH), 'utf8')
      .then((text) => JSON.parse(text) as { pid: number; host: string; since: string })
      .then((o) => ` (pid ${o.pid} on ${o.host}, since ${o.since})`)
      .catch(() => '');
    throw new RunFailedError(`another modelrun is using ${stagingDir}${owner}`, {
      hint: 'wait for it to finish, or give this run another run_id; two runs never share a staging directory',
    });
  }
  const ownerFile = join(stagingDir, LOCK_OWNER_PATH);
  await writeFile(
    ownerFile,
    JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }),
  );
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      await rm(ownerFile, { force: true });
      await release();
    },
  };
}
