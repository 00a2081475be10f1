import { ConfigError } from '../errors.js';
import type { RunJob } from './contract.js';

/**
 * The backend's own command or executable if it has one, else the model
 * file's command. `ownField` names the backend's field, for the hint.
 */
export function resolveCommand(
  own: string | undefined,
  job: RunJob,
  ownField = 'the backend config’s own command or executable',
): string {
  const command = own ?? job.modelCommand;
  if (command === undefined) {
    throw new ConfigError('there is no command to run', {
      hint: `set \`command:\` in the model file, or ${ownField}`,
    });
  }
  return command;
}

/**
 * -n 4, -np 4, --np=4, --ntasks=4: the launcher already says how many
 * processes. Not -c: Open MPI reads it as -np, but srun as CPUs per task.
 */
const PROCESS_COUNT = /(?:^|\s)(?:-n|-np|--np|--n|--ntasks)(?:[\s=]|\d|$)/;

/**
 * The process count an MPI launcher string gives itself: a number, 'unknown'
 * for a count modelrun cannot read (`-n $RANKS`), or undefined for none.
 */
export function launcherProcessCount(mpiexec: string): number | 'unknown' | undefined {
  if (!PROCESS_COUNT.test(mpiexec)) return undefined;
  const count = /(?:^|\s)(?:-n|-np|--np|--n|--ntasks)(?:[\s=]+|(?=\d))(\d+)(?:\s|$)/.exec(mpiexec);
  return count?.[1] === undefined ? 'unknown' : Number(count[1]);
}

/** The `-n <cpu>` to add to an MPI launcher, or nothing when it has a count or there is no cpu count. */
export function processCountArgs(mpiexec: string, cpu: number | undefined): string[] {
  return PROCESS_COUNT.test(mpiexec) || cpu === undefined ? [] : ['-n', String(cpu)];
}

/**
 * Wraps a command in an MPI launcher: `<mpiexec> -n <cpu> <command>`, unless
 * the launcher string already gives a process count or there is no cpu count
 * to give it.
 */
export function wrapMpi(
  command: string,
  mpiexec: string | undefined,
  cpu: number | undefined,
): string {
  if (mpiexec === undefined) return command;
  return [mpiexec, ...processCountArgs(mpiexec, cpu), command].join(' ');
}
