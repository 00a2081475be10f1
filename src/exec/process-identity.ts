// Who a process is, beyond its pid: a pid is reused once its process is
// gone, so a run's record names its processes by host, boot and start time
// too, and a later look (`modelrun status`, `cancel`) signals nothing that
// only happens to have the same number.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** A process as a record names it; `start` is in clock ticks since boot (/proc/<pid>/stat). */
export interface ProcessIdentity {
  pid: number;
  host: string;
  /** The kernel's boot id: a pid of an earlier boot names nothing now. */
  boot_id?: string;
  start?: number;
}

/** What can be said of a process named by its identity, from here. */
export type ProcessPresence = 'alive' | 'gone' | 'elsewhere';

/** The identity of a process on this machine, or undefined once it is gone. */
export function identify(pid: number, procRoot = '/proc'): ProcessIdentity | undefined {
  const start = startTicks(pid, procRoot);
  if (start === undefined) return undefined;
  const boot = currentBootId(procRoot);
  return { pid, host: hostname(), ...(boot === undefined ? {} : { boot_id: boot }), start };
}

/**
 * Whether the process is still the one named: on another host nothing can
 * be said (`elsewhere`); here it is alive only with the same boot and start
 * time, so a reused pid reads as gone.
 */
export function presence(named: ProcessIdentity, procRoot = '/proc'): ProcessPresence {
  if (named.host !== hostname()) return 'elsewhere';
  const boot = currentBootId(procRoot);
  if (named.boot_id !== undefined && boot !== undefined && named.boot_id !== boot) return 'gone';
  const start = startTicks(named.pid, procRoot);
  if (start === undefined) return 'gone';
  return named.start === undefined || named.start === start ? 'alive' : 'gone';
}

/** Whether two identities name the same process: the same pid on the same host, boot and start. */
export function sameProcess(a: ProcessIdentity, b: ProcessIdentity): boolean {
  return a.pid === b.pid && a.host === b.host && a.boot_id === b.boot_id && a.start === b.start;
}

/** Field 22 of /proc/<pid>/stat: when the process started, in ticks since boot; undefined once it has exited. */
function startTicks(pid: number, procRoot: string): number | undefined {
  const fields = statFields(pid, procRoot);
  // A zombie has exited; only its parent has yet to hear of it.
  if (fields === undefined || fields[0] === 'Z' || fields[0] === 'X') return undefined;
  const start = fields[19];
  const ticks = Number(start);
  return start === undefined || !Number.isSafeInteger(ticks) ? undefined : ticks;
}

/**
 * The fields of /proc/<pid>/stat after the name, from field 3 (the state)
 * on; undefined once the process is gone. The name (field 2) may hold
 * spaces and parentheses, so they are counted from the last ")".
 */
export function statFields(pid: number, procRoot = '/proc'): string[] | undefined {
  try {
    const stat = readFileSync(join(procRoot, String(pid), 'stat'), 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** This boot's id, or undefined where the system does not say. */
export function currentBootId(procRoot = '/proc'): string | undefined {
  try {
    return readFileSync(join(procRoot, 'sys/kernel/random/boot_id'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
