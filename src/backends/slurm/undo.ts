import { setTimeout as sleep } from 'node:timers/promises';
import { stringEnv } from '../../exec/env.js';
import type { UndoContext } from '../../exec/guard.js';
import { type LabelledContainers, removeLabelledContainers } from '../containers/docker-undo.js';
import { slurmCliClient } from './cli-client.js';

/**
 * A Slurm job: scancel. With `containers`, the job runs a docker container,
 * which Slurm does not see: once the job has left the queue, any container
 * that still carries `label` (name=value) is removed, or only killed when kept.
 */
export interface SlurmJobTask {
  kind: 'slurm-job';
  id: string;
  /** The cluster sbatch submitted it to (ClusterName), where modelrun could tell. */
  cluster?: string;
  containers?: JobContainers;
  /** The job that postprocesses a detached run (`postprocess_on: node`), not the run's own. */
  postprocess?: true;
}

/** Where to look for the containers of a Slurm job, and what to do with them. */
export type JobContainers = LabelledContainers;

/**
 * Cancels the job; then, for a job that runs a docker container, waits
 * until the job has ended (its script stops the container on Slurm's TERM)
 * and removes what is left. The sweep reaches only the engine modelrun
 * would use, which is the node's on a one-node cluster or with a shared
 * DOCKER_HOST; it is a second line, so its failure does not count.
 */
export async function cancelAbandonedJob(task: SlurmJobTask, context: UndoContext): Promise<void> {
  const slurm = slurmCliClient(stringEnv(context.env));
  const answer = await slurm.cancel(task.id);
  if (!answer.done) throw new Error(answer.said);
  if (task.containers === undefined) return;
  // A missing squeue reads as a job that has left the queue, as before.
  const queued = () => slurm.queued(task.id).catch(() => false);
  for (let waited = 0; waited < JOB_END_WAIT_MS && (await queued()); waited += 500)
    await sleep(500);
  await removeLabelledContainers(task.containers, context).catch(() => undefined);
}

/** Long enough for Slurm's KillWait (30 s by default) to run out after a cancel. */
const JOB_END_WAIT_MS = 60_000;
