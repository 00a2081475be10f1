import { setTimeout as sleep } from 'node:timers/promises';
import { stringEnv } from '../../exec/env.js';
import type { UndoContext } from '../../exec/guard.js';
import { presence } from '../../exec/process-identity.js';
import { type LabelledContainers, removeLabelledContainers } from '../containers/docker-undo.js';
import { LABELS } from '../containers/labels.js';
import { slurmCommand } from './cli.js';
import { slurmCliClient } from './cli-client.js';
import type { SlurmSubmissionTask } from './submission.js';

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

/** How long an sbatch that outlived modelrun may take before it is killed. */
const SBATCH_WAIT_MS = 60_000;

/**
 * How long jobs are looked for when sbatch's process was never known
 * (modelrun died as it started it): sbatch's own retries to a busy
 * controller fit in this.
 */
const UNSEEN_SBATCH_MS = 60_000;

/** After sbatch has ended: a request it had sent may still be at the controller. */
const SETTLE_MS = 3000;

const LOOK_MS = 1000;

/**
 * The guardian's undo: waits for the sbatch to end, then cancels every job of
 * the user whose script is the task's, as it would a job modelrun had heard of.
 */
export async function cancelUnheardSubmission(
  task: SlurmSubmissionTask,
  context: UndoContext,
): Promise<void> {
  const env = stringEnv(context.env);
  const { sbatch } = task;
  let until: number;
  if (sbatch === undefined) until = Date.now() + UNSEEN_SBATCH_MS;
  else {
    const waitUntil = Date.now() + SBATCH_WAIT_MS;
    while (presence(sbatch) === 'alive' && Date.now() < waitUntil) await sleep(200);
    if (presence(sbatch) === 'alive') {
      try {
        process.kill(sbatch.pid, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
    until = Date.now() + SETTLE_MS;
  }
  const cancelled = new Set<string>();
  for (;;) {
    for (const id of await jobsWithScript(task.script, task.uid, env)) {
      if (cancelled.has(id)) continue;
      cancelled.add(id);
      const containers =
        task.containers === undefined
          ? {}
          : { containers: { ...task.containers, label: `${LABELS.slurmJobId}=${id}` } };
      await cancelAbandonedJob({ kind: 'slurm-job', id, ...containers }, context);
    }
    if (Date.now() >= until) return;
    await sleep(LOOK_MS);
  }
}

/**
 * The ids of the user's jobs (an array's own id for all its tasks) whose
 * command squeue shows as `script`. A path may hold any byte but NUL, so a
 * line is read as `<id>|` and then the exact path and a newline.
 */
export async function jobsWithScript(
  script: string,
  uid: number,
  env: Record<string, string>,
): Promise<string[]> {
  const result = await slurmCommand('squeue', ['-h', `--user=${uid}`, '-o', '%F|%o'], env);
  if (result.code !== 0) throw new Error(`squeue failed: ${result.stderr.trim()}`);
  return scriptJobs(result.stdout, script);
}

/** From squeue's `%F|%o` lines, the ids whose command is `script`. */
export function scriptJobs(listing: string, script: string): string[] {
  const ids = new Set<string>();
  const line = /(?:^|\n)(\d+)\|/g;
  for (let match = line.exec(listing); match !== null; match = line.exec(listing)) {
    const from = match.index + match[0].length;
    if (listing.startsWith(`${script}\n`, from) || listing.slice(from) === script)
      ids.add(match[1] as string);
  }
  return [...ids];
}
