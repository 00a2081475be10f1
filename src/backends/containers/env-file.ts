import { lstat, mkdir, open, realpath, rm, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Guard } from '../../exec/guard.js';

/**
 * An env file modelrun wrote (mode 0600; it may hold secrets), by its real
 * path and identity: removed once what read it was stopped, if it is
 * still that very file.
 */
export interface SecretFileTask {
  kind: 'secret-file';
  path: string;
  dev: string;
  ino: string;
}

/**
 * A later run can write the same env file only once it has taken over the
 * staging lock, which goes stale 15 s after its holder last touched it
 * (every 5 s): at least 10 s after modelrun died. A file written more than
 * 5 s after that is another run's, whatever a shared filesystem's clock says.
 */
const TAKEN_OVER_AFTER_MS = 5000;

/**
 * Writes the environment a container reads, to a file only its owner can
 * read: values never go on a command line, where `ps` shows them. Created
 * afresh, so an old file's mode cannot leave a secret readable for a moment.
 * With a guard, the file is handed to the guardian before any value is in
 * it, so a modelrun killed from then on leaves none on disk; the function
 * returned withdraws it once the run has removed the file itself.
 */
export async function writeEnvFile(
  path: string,
  text: string,
  guard?: Guard<SecretFileTask>,
): Promise<() => void> {
  await mkdir(dirname(path), { recursive: true });
  await rm(path, { force: true });
  const handle = await open(path, 'wx', 0o600);
  let unguard = () => {};
  try {
    if (guard !== undefined) {
      const { dev, ino } = await handle.stat({ bigint: true });
      const real = join(await realpath(dirname(path)), basename(path));
      unguard = guard({ kind: 'secret-file', path: real, dev: String(dev), ino: String(ino) });
    }
    await handle.writeFile(text);
  } catch (error) {
    await rm(path, { force: true }).catch(() => undefined);
    unguard();
    throw error;
  } finally {
    await handle.close();
  }
  return unguard;
}

/** Removes it once the run no longer needs it; the values stay in the config, and masked in run.json. */
export async function removeEnvFile(path: string): Promise<void> {
  await rm(path, { force: true });
}

/**
 * The guardian's half: removes the env file a run wrote before its modelrun
 * died at `diedAt` (ms since the epoch), but only that very file. It is kept
 * when any folder on its path is now a symlink, when the path is no longer
 * that regular file (same device and inode), or when it was written after
 * the death, so by a run that has since taken over the staging dir and
 * got the inode number back.
 */
export async function removeAbandonedEnvFile(file: SecretFileTask, diedAt: number): Promise<void> {
  const folder = dirname(file.path);
  if ((await realpath(folder).catch(() => undefined)) !== folder) return;
  const found = await lstat(file.path, { bigint: true }).catch(() => undefined);
  if (found === undefined || !found.isFile()) return;
  if (String(found.dev) !== file.dev || String(found.ino) !== file.ino) return;
  if (Number(found.mtimeMs) > diedAt + TAKEN_OVER_AFTER_MS) return;
  await unlink(file.path);
}
