import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// Signals to a model's process group: the process runner stops a run with
// them, and the guardian (src/guardian) when modelrun is gone.

/** Signals a whole process group; a group that is already gone is fine. */
export function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/**
 * Whether a process of the group still runs, by its stat in /proc: a
 * zombie has exited (where nothing reaps orphans, as in a container without
 * an init, it stays one, and kill(-pgid, 0) still finds the group).
 */
export function groupRuns(pgid: number, procRoot = '/proc'): boolean {
  let entries: string[];
  try {
    entries = readdirSync(procRoot);
  } catch {
    return groupAlive(pgid);
  }
  return entries.some((entry) => {
    if (!/^\d+$/.test(entry)) return false;
    try {
      const stat = readFileSync(join(procRoot, entry, 'stat'), 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return Number(pgrp) === pgid && state !== 'Z' && state !== 'X';
    } catch {
      return false;
    }
  });
}

/** Whether any process of the group is still alive. */
export function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}
