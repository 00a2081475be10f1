import type { LauncherCopies } from './contract.js';
import { launcherProcessCount } from './model-command.js';

/**
 * How many copies of the command an MPI launcher starts: the count written
 * in the launcher, else modelrun's `-n <cpu>`, else the launcher's own
 * default (`fallback`: the Slurm job's tasks for a launcher run in the job;
 * undefined where modelrun cannot know it). Undefined when unknown.
 */
export function mpiCopies(
  mpiexec: string,
  cpu: number | undefined,
  fallback: number | undefined,
): number | undefined {
  const written = launcherProcessCount(mpiexec);
  if (written === 'unknown') return undefined;
  return written ?? cpu ?? fallback;
}

/**
 * What a backend's `mpiexec` starts, for the run's check against the model
 * file's `mpi:`. The count is placed where it comes from: the launcher (or
 * `cpu`, which becomes its `-n`) at `at.mpiexec`, the job's tasks at
 * `at.fallback.path`. Undefined without a launcher.
 */
export function launcherCopies(
  mpiexec: string | undefined,
  cpu: number | undefined,
  at: { mpiexec: (string | number)[]; fallback?: { count: number; path: (string | number)[] } },
  serial: string,
): LauncherCopies | undefined {
  if (mpiexec === undefined) return undefined;
  const fallback = at.fallback;
  const copies = mpiCopies(mpiexec, cpu, fallback?.count);
  const fromJob =
    fallback !== undefined &&
    copies === fallback.count &&
    launcherProcessCount(mpiexec) === undefined &&
    cpu === undefined;
  return { copies, path: fromJob ? fallback.path : at.mpiexec, serial };
}
