// A job is Slurm's as soon as the controller has it, which may be before
// sbatch prints its id. Should modelrun die while sbatch runs (a SIGKILL, the
// OOM killer), no one would know that job, and it would run on. So each
// sbatch is handed to the guardian while it runs: the guardian then waits
// for that sbatch to end, and cancels the jobs of this user whose batch
// script is the one the run wrote, a path in the run's own staging folder,
// which squeue shows as the job's command (undo.ts).
import type { Guard } from '../../exec/guard.js';
import { identify, type ProcessIdentity } from '../../exec/process-identity.js';
import type { SubmitWatch } from './client.js';

export interface SlurmSubmissionTask {
  kind: 'slurm-submission';
  /** The batch script's absolute path, as sbatch was given it. */
  script: string;
  /** Whose jobs are looked at: this process's user. */
  uid: number;
  /** The sbatch process, once it runs: until it has ended, it may still submit. */
  sbatch?: ProcessIdentity;
  /** The engine and rule of the docker containers the job's script starts, if it does. */
  containers?: { engine: string; remove: boolean };
}

/** One sbatch call's guard: its `watch` goes to the client's submit. */
export interface SubmissionGuard {
  watch: SubmitWatch | undefined;
  /** Withdraws it: once the job's own guard holds it, or sbatch has ended without a job. */
  release(): void;
}

/**
 * Hands the sbatch about to run for `script` to the guardian, and again with
 * its process once that has started.
 */
export function guardSubmission(
  guard: Guard<SlurmSubmissionTask> | undefined,
  script: string,
  containers?: SlurmSubmissionTask['containers'],
): SubmissionGuard {
  const uid = process.getuid?.();
  if (guard === undefined || uid === undefined) return { watch: undefined, release: () => {} };
  const task: SlurmSubmissionTask = {
    kind: 'slurm-submission',
    script,
    uid,
    ...(containers === undefined ? {} : { containers }),
  };
  let release = guard(task);
  return {
    watch: {
      started(pid) {
        const sbatch = identify(pid);
        if (sbatch === undefined) return;
        // The new guard before the old one goes: there is no moment without either.
        const before = release;
        release = guard({ ...task, sbatch });
        before();
      },
    },
    release: () => release(),
  };
}
