import { lstatSync, mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, sep } from 'node:path';
import { UsageError } from '../errors.js';

/**
 * A folder of modelrun's under $XDG_STATE_HOME (~/.local/state when it is
 * unset or relative, as XDG says): `modelrun/<name>`, for what outlives a
 * run's terminal but is no run's file. The two folders modelrun makes there
 * are made one at a time and must be folders of its own, never links; a
 * state folder that cannot hold them is the user's to fix, and the error
 * says which, and what needed it (`purpose`).
 */
export function stateFolder(env: NodeJS.ProcessEnv, name: string, purpose: string): string {
  const state = stateHome(env);
  let dir = state;
  try {
    makeFolders(state);
    for (const part of ['modelrun', name]) {
      dir = join(dir, part);
      makeFolder(dir);
      if (!lstatSync(dir).isDirectory())
        throw new Error('a link or a file, which modelrun does not write through');
    }
  } catch (error) {
    throw new UsageError(
      `${purpose} in ${dir}, which cannot be used: ${(error as Error).message}`,
      {
        hint: 'set XDG_STATE_HOME to a folder of yours that can be written, or fix ~/.local/state',
      },
    );
  }
  return dir;
}

/**
 * Makes `dir` and the folders above it that are missing, one at a time, as
 * `mkdir -p` does; Node's own recursive mkdir spins for ever on a path
 * under /proc.
 */
function makeFolders(dir: string): void {
  const parts = dir.split(sep).filter(Boolean);
  let at: string = sep;
  for (const part of parts) {
    at = join(at, part);
    makeFolder(at);
  }
  if (!statSync(dir).isDirectory()) throw new Error('not a folder');
}

/** One folder, only the user's to read; one already there is fine. */
function makeFolder(dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

/** Where stateFolder() keeps `name`, made nothing of: for a reader, which creates no folder. */
export function stateFolderPath(env: NodeJS.ProcessEnv, name: string): string {
  return join(stateHome(env), 'modelrun', name);
}

function stateHome(env: NodeJS.ProcessEnv): string {
  const home = env.HOME !== undefined && isAbsolute(env.HOME) ? env.HOME : homedir();
  return env.XDG_STATE_HOME !== undefined && isAbsolute(env.XDG_STATE_HOME)
    ? env.XDG_STATE_HOME
    : join(home, '.local', 'state');
}
