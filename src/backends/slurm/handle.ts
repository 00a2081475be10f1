import { realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { stringEnv } from '../../exec/env.js';
import type { HandleOps, HandleOwner } from '../../exec/guard.js';
import { isEngineAddress } from '../containers/docker-host.js';
import { LABELS } from '../containers/labels.js';
import { ARRAY_SCRIPT, JOB_ID, POSTPROCESS_SCRIPT_NAME, SCRIPT_NAME } from './script-name.js';
import type { JobState } from './state.js';
import type { SlurmJobTask } from './undo.js';

/** A slurm run's handle: its job, on the cluster sbatch submitted it to. */
export const slurmJobHandle: HandleOps<SlurmJobTask> = {
  kind: 'slurm-job',
  read(value) {
    const { id, containers, cluster } = value;
    // An ensemble's member on Slurm is a task of its array: `<array>_<task>`.
    if (typeof id !== 'string' || !JOB_ID.test(id)) return undefined;
    const named = typeof cluster === 'string' && /^[\w.-]{1,64}$/.test(cluster) ? { cluster } : {};
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
    return {
      kind: 'slurm-job',
      id,
      ...named,
      ...(swept === undefined ? {} : { containers: swept }),
      ...(value.postprocess === true ? { postprocess: true as const } : {}),
    };
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
      const elsewhere = kept === undefined ? await otherCluster(handle, env) : undefined;
      if (elsewhere !== undefined)
        return {
          state: 'unknown',
          detail: `job ${handle.id} was submitted to cluster ${handle.cluster}, and this host's Slurm is cluster ${elsewhere}, which cannot tell; look from a login node of ${handle.cluster}`,
        };
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
    if (!isTheRuns(job, run, handle))
      return { state: 'unknown', notTheRuns: true, detail: notTheRuns(handle, run) };
    const reason = job.reason === undefined ? '' : ` (${job.reason})`;
    const where = job.nodes === undefined ? '' : ` on ${job.nodes}`;
    const detail = `job ${handle.id} ${job.state}${job.state === 'PENDING' ? reason : where}`;
    const { FINAL_STATES, outcomeOf } = await import('./state.js');
    if (FINAL_STATES.has(job.state)) {
      // The run's terms, as a run that follows its job records it: only COMPLETED with exit 0 succeeded.
      const ended = outcomeOf(job);
      const status = ended.timedOut
        ? 'timed_out'
        : ended.exitCode === 0 && ended.signal === null && ended.reason === undefined
          ? 'succeeded'
          : 'failed';
      const how = [
        ended.exitCode === null ? '' : `, exit code ${ended.exitCode}`,
        ended.signal === null ? '' : `, killed by ${ended.signal}`,
        ended.reason === undefined ? '' : `: ${ended.reason}`,
      ].join('');
      return {
        state: 'ended',
        detail: `${detail}${how}`,
        ...(ended.exitCode === null ? {} : { exitCode: ended.exitCode }),
        ...(ended.signal === null ? {} : { signal: ended.signal }),
        outcome: { status, endedAt: await endOf(job, run.stagingDir, handle.id) },
      };
    }
    return { state: job.state === 'PENDING' ? 'waiting' : 'running', detail };
  },
  async cancel(handle, env, run) {
    const job = await queryJob(handle, env);
    if (job instanceof Error)
      throw new Error(`no answer from Slurm about job ${handle.id}: ${job.message}`);
    // Only the job that runs this run's batch script: any other id is left alone.
    if (job !== undefined && !isTheRuns(job, run, handle)) throw new Error(notTheRuns(handle, run));
    const { cancelAbandonedJob } = await import('./undo.js');
    await cancelAbandonedJob(handle, { diedAt: Date.now(), env });
  },
};

/** The cluster this host's Slurm is, when it is not the one the job was submitted to. */
async function otherCluster(
  handle: SlurmJobTask,
  env: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  if (handle.cluster === undefined) return undefined;
  const { slurmCliClient } = await import('./cli-client.js');
  const here = await slurmCliClient(stringEnv(env))
    .cluster?.()
    .catch(() => undefined);
  // Where that cannot be told, the job is taken to be this cluster's.
  return here !== undefined && here !== handle.cluster ? here : undefined;
}

/** When a job ended: Slurm's EndTime, else when its script kept its exit status, else now. */
async function endOf(job: JobState, stagingDir: string, id: string): Promise<Date> {
  const { slurmTime } = await import('./state.js');
  const slurm = slurmTime(job.endTime);
  if (slurm !== undefined) return slurm;
  const { readJobEnd } = await import('./job-exit.js');
  return (await readJobEnd(stagingDir, id))?.at ?? new Date();
}

async function queryJob(
  handle: SlurmJobTask,
  env: NodeJS.ProcessEnv,
): Promise<JobState | undefined | Error> {
  const { slurmCliClient } = await import('./cli-client.js');
  return slurmCliClient(stringEnv(env))
    .query(handle.id)
    .catch((error: Error) => error);
}

/**
 * The job runs the run's batch script (or, for the handle of its postprocess
 * job, that job's script): the same file, whichever links led to its folder.
 */
function isTheRuns(job: JobState, run: HandleOwner, handle: SlurmJobTask): boolean {
  if (job.command === undefined) return false;
  const real = (path: string) => {
    try {
      return realpathSync(path);
    } catch {
      return undefined;
    }
  };
  // A member's task runs its ensemble's array script, in the .modelrun of the
  // folder that holds the member's run dir (a copied member dir is not in it).
  if (handle.id.includes('_')) {
    if (handle.postprocess || !ARRAY_SCRIPT.test(basename(job.command))) return false;
    const folder = dirname(job.command);
    const ensemble = real(dirname(folder));
    return (
      basename(folder) === '.modelrun' &&
      ensemble !== undefined &&
      ensemble === real(dirname(run.stagingDir))
    );
  }
  if (basename(job.command) !== (handle.postprocess ? POSTPROCESS_SCRIPT_NAME : SCRIPT_NAME))
    return false;
  const ran = real(dirname(job.command));
  return ran !== undefined && ran === real(run.stagingDir);
}

function notTheRuns(handle: SlurmJobTask, run: HandleOwner): string {
  const script = handle.postprocess ? POSTPROCESS_SCRIPT_NAME : SCRIPT_NAME;
  return `job ${handle.id} does not run ${join(run.stagingDir, script)}: it is not this run's, and is left alone`;
}
