import { stringEnv } from '../../exec/env.js';
import type { HandleOps } from '../../exec/guard.js';
import type { SlurmJobTask } from './undo.js';

/** A slurm run's handle: its job, on the cluster sbatch submitted it to. */
export const slurmJobHandle: HandleOps<SlurmJobTask> = {
  kind: 'slurm-job',
  read(value) {
    const { id, containers } = value;
    if (typeof id !== 'string' || !/^\d{1,12}$/.test(id)) return undefined;
    // The containers a job's script starts are swept by label, a value modelrun wrote: kept only when whole.
    const swept =
      typeof containers === 'object' &&
      containers !== null &&
      typeof (containers as Record<string, unknown>).engine === 'string' &&
      typeof (containers as Record<string, unknown>).label === 'string' &&
      typeof (containers as Record<string, unknown>).remove === 'boolean'
        ? (containers as NonNullable<SlurmJobTask['containers']>)
        : undefined;
    return { kind: 'slurm-job', id, ...(swept === undefined ? {} : { containers: swept }) };
  },
  async inspect(handle, env) {
    const [{ slurmCliClient }, { FINAL_STATES }] = await Promise.all([
      import('./cli-client.js'),
      import('./state.js'),
    ]);
    const job = await slurmCliClient(stringEnv(env))
      .query(handle.id)
      .catch((error: Error) => error);
    if (job instanceof Error)
      return {
        state: 'unknown',
        detail: `no answer from Slurm about job ${handle.id}: ${job.message}`,
      };
    if (job === undefined)
      return {
        state: 'gone',
        detail: `Slurm no longer knows job ${handle.id}; without accounting, how it ended is not on record there`,
      };
    const reason = job.reason === undefined ? '' : ` (${job.reason})`;
    const where = job.nodes === undefined ? '' : ` on ${job.nodes}`;
    const detail = `job ${handle.id} ${job.state}${job.state === 'PENDING' ? reason : where}`;
    if (FINAL_STATES.has(job.state))
      return {
        state: 'ended',
        detail: `${detail}${job.exitCode === undefined ? '' : `, exit code ${job.exitCode}`}`,
        ...(job.exitCode === undefined ? {} : { exitCode: job.exitCode }),
      };
    return { state: job.state === 'PENDING' ? 'waiting' : 'running', detail };
  },
  async cancel(handle, env) {
    const { cancelAbandonedJob } = await import('./undo.js');
    await cancelAbandonedJob(handle, { diedAt: Date.now(), env });
  },
};
