// A cgroup (v2) of the run's own, where the machine lets us make one: what
// the model starts stays in it whatever it does to its session, group or
// environment, and `cgroup.kill` stops all of it at once. Without one
// (cgroup v1 only, a cgroup not delegated to us) the marker scan of
// escaped-processes.ts does the work alone.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Where cgroups live on this machine; a seam for tests. */
export interface CgroupHost {
  /** /proc/self/mountinfo's text. */
  mountinfo(): string;
  /** /proc/self/cgroup's text. */
  selfCgroup(): string;
}

const REAL_HOST: CgroupHost = {
  mountinfo: () => readFileSync('/proc/self/mountinfo', 'utf8'),
  selfCgroup: () => readFileSync('/proc/self/cgroup', 'utf8'),
};

/**
 * The folder of modelrun's own cgroup in the v2 hierarchy, or undefined
 * when there is none. Hybrid machines mount v2 beside v1 (often at
 * /sys/fs/cgroup/unified), hence the look at mountinfo.
 */
export function ownCgroupDir(host: CgroupHost = REAL_HOST): string | undefined {
  try {
    const line = host
      .selfCgroup()
      .split('\n')
      .find((l) => l.startsWith('0::'));
    if (line === undefined) return undefined;
    const path = line.slice(3);
    for (const mount of host.mountinfo().split('\n')) {
      // "36 25 0:31 / /sys/fs/cgroup/unified rw,… - cgroup2 cgroup2 rw"
      const [left, right] = mount.split(' - ');
      if (right?.split(' ')[0] !== 'cgroup2') continue;
      const fields = left?.split(' ') ?? [];
      const root = fields[3];
      const point = fields[4];
      if (root === undefined || point === undefined) continue;
      // A mount of a sub-tree (in a container) shows our path relative to it.
      const relative = path.startsWith(root) ? path.slice(root === '/' ? 0 : root.length) : path;
      return resolve(point.replace(/\\040/g, ' '), `.${relative}`);
    }
  } catch {
    // No /proc: no cgroup.
  }
  return undefined;
}

/** A cgroup made for one run. */
export interface RunCgroup {
  /** Its folder, for the guardian. */
  dir: string;
  /** Moves a process in; false when the system refuses. */
  join(pid: number): boolean;
  /** The pids in it now. */
  members(): number[];
  /** SIGKILL to everything in it. */
  kill(): void;
  /**
   * Kills what is left and removes the folder, waiting up to a second for
   * the killed to exit; a failure leaves only an empty folder behind.
   */
  dispose(): Promise<void>;
}

/**
 * Makes `modelrun-<mark>` under modelrun's own cgroup, or returns undefined
 * when cgroups v2 are not there, not writable by us, or too old for
 * `cgroup.kill` (Linux 5.14).
 */
export function createRunCgroup(mark: string, host: CgroupHost = REAL_HOST): RunCgroup | undefined {
  const parent = ownCgroupDir(host);
  if (parent === undefined) return undefined;
  const dir = join(parent, `modelrun-${mark}`);
  try {
    mkdirSync(dir);
  } catch {
    return undefined;
  }
  if (!existsSync(join(dir, 'cgroup.kill'))) {
    rmdirSync(dir);
    return undefined;
  }
  return openRunCgroup(dir);
}

/** A run's cgroup by its folder: the guardian's way in. */
export function openRunCgroup(dir: string): RunCgroup {
  const kill = () => {
    try {
      writeFileSync(join(dir, 'cgroup.kill'), '1\n');
    } catch {
      // Gone already.
    }
  };
  return {
    dir,
    join(pid) {
      try {
        writeFileSync(join(dir, 'cgroup.procs'), `${pid}\n`);
        return true;
      } catch {
        return false;
      }
    },
    members() {
      try {
        return readFileSync(join(dir, 'cgroup.procs'), 'utf8')
          .split('\n')
          .filter((l) => l !== '')
          .map(Number);
      } catch {
        return [];
      }
    },
    kill,
    async dispose() {
      for (let tries = 0; tries < 50; tries++) {
        if (tries > 0) await sleep(20);
        kill();
        try {
          rmdirSync(dir);
          return;
        } catch (error) {
          // EBUSY while the killed are still exiting; anything else will not get better.
          if ((error as NodeJS.ErrnoException).code !== 'EBUSY') return;
        }
      }
    },
  };
}

/**
 * Calls `start`, which must start the child synchronously (a spawn), with
 * modelrun itself moved into the run's cgroup for that moment, so that the
 * child is born in it: a process it forks and that clears its environment in
 * its first instant cannot slip out before the child is moved in. `inside`
 * is false when the system refused the move (the caller then moves the
 * child in after the start). `trapped` is true when modelrun could not move
 * back out: the cgroup then holds modelrun too and must never be killed.
 */
export function startInside<T>(
  cgroup: RunCgroup,
  start: () => T,
): { started: T; inside: boolean; trapped: boolean } {
  if (!cgroup.join(process.pid)) return { started: start(), inside: false, trapped: false };
  const goHome = () => openRunCgroup(dirname(cgroup.dir)).join(process.pid);
  let started: T;
  try {
    started = start();
  } catch (error) {
    goHome();
    throw error;
  }
  return { started, inside: true, trapped: !goHome() };
}
