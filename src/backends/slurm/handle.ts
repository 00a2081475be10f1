import { realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { stringEnv } from '../../exec/env.js';
import type { HandleOps, HandleOwner } from '../../exec/guard.js';
import { isEngineAddress } from '../containers/docker-host.js';
import { LABELS } from '../containers/labels.js';
import { SCRIPT_NAME } from './script-name.js';
import type { JobState } from './state.js';
import type { SlurmJobTask } from './undo.js';

/** A slurm run's handle: its job, on the cluster sbatch submitted it to. */
export const slurmJobHandle: HandleOps<SlurmJobTask> = {
  kind: 'slurm-job',
  read(value) {
    const { id, containers } = value;
    if (typeof id !== 'string' || !/^\d{1,12}$/.test(id)) return undefined;
    // The containers a job's script starts are swept by the label its script sets, for this job only.
    const given =
      typeof containers === 'object' && containers !== null
        ? (containers as Record<string, unknown>)
        : {};
    const swept =
      isEngineAddress(given.engine) &&
      given.label === `${LABELS.slurmJobId}=${id}` &&
      typeof given.remove === 'boolean'
        ? { engine: given.engine, label: given.label, remove: given.remove }
        : undefined;
    return { kind: 'slurm-job', id, ...(swept === undefined ? {} : { containers: swept }) };
  },
  async inspect(handle, env, run) {
    const job = await queryJob(handle, env);
    if (job instanceof Error)
      return {
        state: 'unknown',
        detail: `no answer from Slurm about job ${handle.id}: ${job.message}`,
      };
    const { readJobEnd } = await import('./job-exit.js');
    if (job === undefined) {
      // Its script kept the command's exit status, unless the job was killed.
      const kept = await readJobEnd(run.stagingDir, handle.id);
      if (kept === undefined)
        return {
          state: 'gone',
          detail: `Slurm no longer knows job ${handle.id}, and its script kept no exit status (it was cancelled, reached its time limit, or its node failed); without accounting, how it ended is not on record`,
        };
      return {
        state: 'ended',
        detail: `job ${handle.id} ended, exit code ${kept.exitCode}`,
        exitCode: kept.exitCode,
        outcome: { status: kept.exitCode === 0 ? 'succeeded' : 'failed', endedAt: kept.at },
      };
    }
    if (!isTheRuns(job, run)) return { state: 'unknown', detail: notTheRuns(handle, run) };
    const reason = job.reason === undefined ? '' : ` (${job.reason})`;
    const where = job.nodes === undefined ? '' : ` on ${job.nodes}`;
    const detail = `job ${handle.id} ${job.state}${job.state === 'PENDING' ? reason : where}`;
    const { FINAL_STATES, outcomeOf } = await import('./state.js');
    if (FINAL_STATES.has(job.state)) {
      const ended = outcomeOf(job);
      const endedAt = (await readJobEnd(run.stagingDir, handle.id))?.at ?? new Date();
      const status = ended.timedOut
        ? 'timed_out'
        : job.state === 'CANCELLED'
          ? 'cancelled'
          : ended.exitCode === 0 && ended.signal === null && ended.reason === undefined
            ? 'succeeded'
            : 'failed';
      return {
        state: 'ended',
        detail: `${detail}${job.exitCode === undefined ? '' : `, exit code ${job.exitCode}`}${ended.reason === undefined ? '' : `: ${ended.reason}`}`,
        ...(ended.exitCode === null ? {} : { exitCode: ended.exitCode }),
        outcome: { status, endedAt },
      };
    }
    return { state: job.state === 'PENDING' ? 'waiting' : 'running', detail };
  },
  async cancel(handle, env, run) {
    const job = await queryJob(handle, env);
    if (job instanceof Error)
      throw new Error(`no answer from Slurm about job ${handle.id}: ${job.message}`);
    // Only the job that runs this run's batch script: any other id is left alone.
    if (job !== undefined && !isTheRuns(job, run)) throw new Error(notTheRuns(handle, run));
    const { cancelAbandonedJob } = await import('./undo.js');
    await cancelAbandonedJob(handle, { diedAt: Date.now(), env });
  },
};

async function queryJob(
  handle: SlurmJobTask,
  env: NodeJS.ProcessEnv,
): Promise<JobState | undefined | Error> {
  const { slurmCliClient } = await import('./cli-client.js');
  return slurmCliClient(stringEnv(env))
    .query(handle.id)
    .catch((error: Error) => error);
}

/** The job runs the run's batch script: the same file, whichever links led to its folder. */
function isTheRuns(job: JobState, run: HandleOwner): boolean {
  if (job.command === undefined || basename(job.command) !== SCRIPT_NAME) return false;
  const real = (path: string) => {
    try {
      return realpathSync(path);
    } catch {
      return undefined;
    }
  };
  const ran = real(dirname(job.command));
  return ran !== undefined && ran === real(run.stagingDir);
}

function notTheRuns(handle: SlurmJobTask, run: HandleOwner): string {
  return `job ${handle.id} does not run ${join(run.stagingDir, SCRIPT_NAME)}: it is not this run's, and is left alone`;
}
