import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { lstat, realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { openLog } from './log-reader.js';
import { stateFolder, stateFolderPath } from './state-folder.js';

/**
 * A supervisor's own log (that of `run --detach` or `ensemble --detach`):
 * a new file in modelrun's state folder `detached`, named by what it runs,
 * when, and a random tail. ensemble.json names the file, but a member can
 * rewrite ensemble.json, so `logs` reads only a file of that name in that
 * folder, never one the record merely names.
 */

const FOLDER = 'detached';

/** A new file for the supervisor's own lines, named after `name` (a run id, an ensemble id). */
export function newSupervisorLog(env: NodeJS.ProcessEnv, name: string): string {
  const dir = stateFolder(env, FOLDER, "--detach keeps the supervisor's log");
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return join(dir, `${name}-${stamp}-${randomBytes(3).toString('hex')}.log`);
}

/** Where this user's supervisor logs are, as `refusal` says it. */
export function supervisorLogFolder(env: NodeJS.ProcessEnv): string {
  return stateFolderPath(env, FOLDER);
}

/**
 * Opens the supervisor log of `name` that `path` names: `missing` when it
 * is one but is not there (removed), `refused` when `path` is not one
 * newSupervisorLog could have made for `name` in this user's state folder,
 * or what is there is not a regular file (a link is not followed).
 */
export async function openSupervisorLog(
  env: NodeJS.ProcessEnv,
  path: string,
  name: string,
): Promise<FileHandle | 'missing' | 'refused'> {
  const file = basename(path);
  const made = new RegExp(
    `^${escapeRegExp(name)}-\\d{4}-\\d\\d-\\d\\dT\\d\\d-\\d\\d-\\d\\d-\\d{3}Z-[0-9a-f]{6}\\.log$`,
  );
  if (!isAbsolute(path) || !made.test(file)) return 'refused';
  const folder = supervisorLogFolder(env);
  const [named, own] = await Promise.all(
    [dirname(path), folder].map((dir) => realpath(dir).catch(() => undefined)),
  );
  if (own === undefined || named !== own) return 'refused';
  // Opened where modelrun puts it, not by the path the record wrote.
  const at = join(folder, file);
  const opened = await openLog(at);
  if (opened !== undefined) return opened;
  // A link or a FIFO of that name is no log modelrun made; a file removed is one it did.
  return (await lstat(at).catch(() => undefined)) === undefined ? 'missing' : 'refused';
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
