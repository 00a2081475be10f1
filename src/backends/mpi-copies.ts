import { launcherProcessCount } from './model-command.js';
import type { ConfigWarning } from './types.js';

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
 * The warning for an MPI launcher that starts several copies of the command.
 * The backend config cannot tell whether the model is an MPI program; a
 * serial one, started N times into one staging dir, runs the same work N
 * times and its copies write over each other's output files. So modelrun
 * says what mpiexec does whenever it starts more than one copy.
 */
export function mpiCopiesWarning(
  path: (string | number)[],
  copies: number | undefined,
  instead: string,
): ConfigWarning[] {
  if (copies === undefined || copies <= 1) return [];
  return [
    {
      path,
      message: `mpiexec starts ${copies} copies of the command: right for an MPI program, whose ranks share the work, but a serial or threaded model would run ${copies} times over and its copies would write the same output files; for such a model remove mpiexec: ${instead}`,
    },
  ];
}
