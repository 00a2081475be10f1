import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Writes the environment a container reads, to a file only its owner can
 * read: values never go on a command line, where `ps` shows them. Created
 * afresh, so an old file's mode cannot leave a secret readable for a moment.
 */
export async function writeEnvFile(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await rm(path, { force: true });
  await writeFile(path, text, { mode: 0o600, flag: 'wx' });
}

/** Removes it once the run no longer needs it; the values stay in the config, and masked in run.json. */
export async function removeEnvFile(path: string): Promise<void> {
  await rm(path, { force: true });
}
