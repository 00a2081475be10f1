import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { readOwnFile } from '../../exec/link-safe.js';
import { JOB_EXIT_NAME } from './script-name.js';

/**
 * The exit status the batch script kept for `jobId` (see keepingExitStatus
 * in script.ts), or undefined: none kept (the job was killed, or has not
 * ended), a file of another job's, or one that is not the script's.
 */
export async function readJobExit(stagingDir: string, jobId: string): Promise<number | undefined> {
  return (await readJobEnd(stagingDir, jobId))?.exitCode;
}

/** The exit status the batch script kept for `jobId`, and when: the job's end, as its script saw it. */
export async function readJobEnd(
  stagingDir: string,
  jobId: string,
): Promise<{ exitCode: number; at: Date } | undefined> {
  const path = join(stagingDir, '.modelrun', JOB_EXIT_NAME);
  const text = await readOwnFile(path).catch(() => undefined);
  const match = text === undefined ? null : /^(\d{1,12}(?:_\d{1,7})?) (\d{1,3})\n$/.exec(text);
  if (match === null || match[1] !== jobId) return undefined;
  const exitCode = Number(match[2]);
  if (exitCode > 255) return undefined;
  const at = await lstat(path).then(
    (stats) => stats.mtime,
    () => new Date(),
  );
  return { exitCode, at };
}
