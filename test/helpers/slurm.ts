import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { type PipelineDeps, type PipelineResult, runPipeline } from '../../src/run/pipeline.js';
import { startModelrun } from './cli.js';
import type { pipelineHarness } from './pipeline.js';

/**
 * What every test job asks for. Many clusters (and CI's) have no
 * DefMemPerCPU and OverSubscribe=NO: a job that names no memory is given the
 * whole node, and every other job, ours or another checkout's, queues behind
 * it. The time limit ends a job a crashed test left behind.
 */
export const TEST_JOB = { cpus_per_task: 1, mem: '100M', time_limit: '00:05:00' } as const;

/** TEST_JOB as lines of a slurm backend config file. */
export const TEST_JOB_YAML = 'cpus_per_task: 1\nmem: 100M\ntime_limit: "00:05:00"\n';

/** A slurm backend config for a test: TEST_JOB, then `more`. */
export function slurmTestBackend(more: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'slurm', ...TEST_JOB, ...more };
}

/**
 * How long a test job may wait for the cluster to start it:
 * MODELRUN_TEST_QUEUE_S seconds, 300 by default. Measured on the 2-CPU CI
 * cluster with another checkout's job holding one CPU and two checkouts
 * running these files at once: a job waits behind the time-limit tests'
 * jobs (about 90 s each) for up to about 180 s, and up to 280 s when a job
 * that asks for no memory takes the whole node ahead of it.
 */
export const QUEUE_MS = Number(process.env.MODELRUN_TEST_QUEUE_S || 300) * 1000;

/** A vitest timeout for a test of one job: its wait in the queue, its run, and cleanup. */
export function clusterTimeout(runMs: number): number {
  return QUEUE_MS + runMs + 30_000;
}

/** Ids and states of the jobs of this name still known to the queue. */
export function queued(name: string): string[] {
  return execFileSync('squeue', ['-h', '-n', name, '-o', '%i %T'], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .filter(Boolean);
}

/** `scontrol show job -o` of a job as Key=Value pairs; empty once Slurm has forgotten it. */
export function slurmJob(jobId: string): Record<string, string> {
  let line: string;
  try {
    line = execFileSync('scontrol', ['show', 'job', '-o', jobId], {
      encoding: 'utf8',
      stdio: 'pipe',
    });
  } catch {
    return {};
  }
  return Object.fromEntries(
    [...line.matchAll(/(\S+?)=(\S*)/g)].map((m) => [m[1] ?? '', m[2] ?? '']),
  );
}

/** Why a job has not got on: its state and Slurm's reason, and what else the queue holds. */
export function describeWait(jobId: string | undefined, waitedMs: number): string {
  const seconds = Math.round(waitedMs / 1000);
  const job = jobId === undefined ? {} : slurmJob(jobId);
  const state =
    jobId === undefined
      ? `no job was submitted within ${seconds} s`
      : `job ${jobId} is still ${job.JobState ?? 'unknown to scontrol'} after ${seconds} s (Reason=${job.Reason ?? '?'})`;
  let queue: string;
  try {
    queue = execFileSync('squeue', ['-h', '-o', '  %i %j %u %T %r cpus=%C mem=%m'], {
      encoding: 'utf8',
      stdio: 'pipe',
    }).trimEnd();
  } catch (error) {
    queue = `  (squeue failed: ${(error as Error).message})`;
  }
  return `${state}; the queue:\n${queue || '  (empty)'}`;
}

type Harness = ReturnType<typeof pipelineHarness>;

/**
 * Runs a harness's job like runPipeline, but gives it at most `queueMs` to
 * start and then `runMs` to end. Past either, it interrupts the run (which
 * cancels the job) and fails with the job's state and pending reason, not
 * with a bare vitest timeout.
 */
export async function runOnCluster(
  h: Harness,
  options: { runMs: number; queueMs?: number; deps?: Partial<PipelineDeps> },
): Promise<PipelineResult> {
  const queueMs = options.queueMs ?? QUEUE_MS;
  let settled = false;
  const run = runPipeline(h.request, { ...h.deps, ...options.deps }).finally(() => {
    settled = true;
  });
  const done = run.then(
    () => undefined,
    () => undefined,
  );
  const submitted = Date.now();
  let runningSince: number | undefined;
  while (!settled) {
    await Promise.race([done, sleep(200)]);
    if (settled) break;
    if (runningSince === undefined && h.captured.status.some((l) => / RUNNING on /.test(l)))
      runningSince = Date.now();
    const late =
      runningSince === undefined
        ? Date.now() - submitted > queueMs
        : Date.now() - runningSince > options.runMs;
    if (!late) continue;
    const id = jobIdIn(h.captured.status);
    const why =
      runningSince === undefined
        ? describeWait(id, Date.now() - submitted)
        : `job ${id} ran for more than ${options.runMs / 1000} s: ${slurmJob(id ?? '').JobState}`;
    h.session.interrupt('SIGINT');
    await Promise.race([done, sleep(30_000)]);
    throw new Error(why);
  }
  return run;
}

/** The job id from the run's "submitted batch job N" status line. */
export function jobIdIn(status: string[]): string | undefined {
  for (const line of status) {
    const id = /^submitted batch job (\d+)/.exec(line)?.[1];
    if (id !== undefined) return id;
  }
  return undefined;
}

/**
 * Waits, for at most `ms`, for the job named `name` to leave PENDING (to
 * run, or to have run already); returns its id, or undefined when `ended`
 * turns true first (modelrun exited). On timeout, fails with the job's state
 * and pending reason.
 */
export async function waitUntilStarted(
  name: string,
  ms = QUEUE_MS,
  ended: () => boolean = () => false,
): Promise<string | undefined> {
  const started = Date.now();
  let id: string | undefined;
  while (Date.now() - started < ms) {
    // --states=all: a short job may already have ended between two looks.
    const [line] = execFileSync('squeue', ['-h', '--states=all', '-n', name, '-o', '%i %T'], {
      encoding: 'utf8',
    })
      .trim()
      .split('\n')
      .filter(Boolean);
    const [jobId, state] = (line ?? '').split(' ');
    id = jobId || id;
    if (jobId !== undefined && state !== undefined && state !== 'PENDING') return jobId;
    if (ended()) return undefined;
    await sleep(250);
  }
  throw new Error(describeWait(id, Date.now() - started));
}

/**
 * Starts `modelrun` on the cluster and returns once its job named `jobName`
 * has started (and, for a job that runs on, once the model printed
 * "started"). If the job does not start in time, the run is interrupted,
 * which cancels the job, and this fails with the job's pending reason.
 */
export async function startOnCluster(
  args: string[],
  options: { cwd: string; jobName: string; queueMs?: number; env?: NodeJS.ProcessEnv },
) {
  const run = await startModelrun(args, {
    cwd: options.cwd,
    waitMs: 0,
    ...(options.env === undefined ? {} : { env: options.env }),
  });
  let ended = false;
  void run.exited.then(() => {
    ended = true;
  });
  let jobId: string | undefined;
  try {
    jobId = await waitUntilStarted(options.jobName, options.queueMs, () => ended);
  } catch (error) {
    run.child.kill('SIGINT');
    await run.exited;
    throw error;
  }
  for (let i = 0; i < 400 && !ended && !run.output().stdout.includes('started'); i++)
    await sleep(25);
  return { ...run, jobId };
}

/** Runs `modelrun` on the cluster to its end, failing with the pending reason if its job never starts. */
export async function runOnClusterCli(
  args: string[],
  options: { cwd: string; jobName: string; queueMs?: number; env?: NodeJS.ProcessEnv },
) {
  const run = await startOnCluster(args, options);
  const code = await run.exited;
  return { code, ...run.output() };
}
