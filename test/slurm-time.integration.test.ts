import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { runPipeline } from '../src/run/pipeline.js';
import { startModelrun } from './helpers/cli.js';
import { reportMissingEngine, slurmUnavailable } from './helpers/engines.js';
import { pipelineHarness } from './helpers/pipeline.js';
import { waitFor } from './helpers/processes.js';
import { jobIdIn, slurmJob } from './helpers/slurm.js';
import { makeTree, type Tree } from './helpers/tree.js';
import { uniqueId } from './helpers/unique-id.js';

/**
 * How modelrun's limits meet Slurm's: `timeout` counts RUNNING time only,
 * `queue_timeout` bounds the wait in the queue, and a run that modelrun or
 * Slurm ended has no exit code. A job is kept PENDING deterministically
 * with --hold: it waits (Reason=JobHeldUser) until released or cancelled.
 */
const missing = slurmUnavailable();
reportMissingEngine('slurm', missing);

/** What the strict cluster needs of every job: one CPU, a little memory, a time limit. */
const SMALL = { type: 'slurm', cpus_per_task: 1, mem: '100M', time_limit: '00:05:00' } as const;
const HELD = { ...SMALL, additional_options: ['--hold'] };

/** Waits until `check` holds; jobs of others may keep ours queued a while. */
async function until(check: () => boolean, what: string, ms = 420_000): Promise<void> {
  if (!(await waitFor(check, ms))) throw new Error(`gave up waiting until ${what}`);
}

/** The id of the job a run submitted, once its status line says so. */
async function submitted(status: string[], ms = 60_000): Promise<string> {
  await until(() => jobIdIn(status) !== undefined, `a job is submitted: ${status.join('\n')}`, ms);
  return jobIdIn(status) as string;
}

describe.skipIf(missing !== undefined)("Slurm runs' time limits, on a real cluster", () => {
  let tree: Tree;
  let held: string | undefined;
  afterEach(() => {
    // A job this test held and did not see end: never leave it queued.
    if (held !== undefined) execFileSync('scancel', [held], { stdio: 'ignore' });
    held = undefined;
    tree?.remove();
  });

  it('does not let timeout cancel a job that is still PENDING; the clock starts when it runs', async () => {
    tree = makeTree();
    const { request, deps, captured, runJson } = pipelineHarness(
      tree,
      { run_id: uniqueId('pending-timeout'), command: 'echo ran' },
      HELD,
    );
    const run = runPipeline(request, { ...deps, timeoutMs: 2000 });
    held = await submitted(captured.status);
    await sleep(5000);
    expect(slurmJob(held)).toMatchObject({ JobState: 'PENDING', Reason: 'JobHeldUser' });
    execFileSync('scontrol', ['release', held]);
    expect((await run).exitCode).toBe(0);
    expect(runJson()).toMatchObject({ status: 'succeeded', exit_code: 0 });
    held = undefined;
  }, 600_000);

  it('cancels a job still PENDING at queue_timeout, recorded as timed out with the pending reason', async () => {
    tree = makeTree();
    const { request, deps, captured, runJson } = pipelineHarness(
      tree,
      { run_id: uniqueId('queue-timeout'), command: 'echo ran' },
      { ...HELD, queue_timeout: 2 },
    );
    const run = runPipeline(request, deps);
    held = await submitted(captured.status);
    expect((await run).exitCode).toBe(1);
    const record = runJson();
    expect(record).toMatchObject({
      status: 'timed_out',
      exit_code: null,
      reason: `job ${held} still PENDING (JobHeldUser) after queue_timeout 2s; cancelled`,
    });
    expect(record).not.toHaveProperty('signal');
    expect(slurmJob(held).JobState).toBe('CANCELLED');
    held = undefined;
  }, 120_000);

  it('records no exit code for a job cancelled by Ctrl-C while PENDING', async () => {
    tree = makeTree();
    const { request, deps, session, captured, runJson } = pipelineHarness(
      tree,
      { run_id: uniqueId('pending-ctrl-c'), command: 'echo ran' },
      HELD,
    );
    const run = runPipeline(request, deps);
    held = await submitted(captured.status);
    session.interrupt('SIGINT');
    expect((await run).exitCode).toBe(130);
    const record = runJson();
    expect(record).toMatchObject({
      status: 'cancelled',
      exit_code: null,
      reason: 'cancelled by SIGINT',
    });
    expect(record).not.toHaveProperty('signal');
    expect(slurmJob(held).JobState).toBe('CANCELLED');
    held = undefined;
  }, 120_000);

  it("records no exit code, and scancel's SIGTERM, for a RUNNING job ended by modelrun's timeout", async () => {
    tree = makeTree();
    const { request, deps, runJson } = pipelineHarness(
      tree,
      { run_id: uniqueId('own-timeout'), command: 'sleep 300' },
      SMALL,
    );
    let runningAt: number | undefined;
    const status = (line: string) => {
      if (runningAt === undefined && / RUNNING /.test(line)) runningAt = Date.now();
      deps.status(line);
    };
    // Longer than the gap between two looks at the job, which once started the clock afresh.
    const result = await runPipeline(request, { ...deps, status, timeoutMs: 12_000 });
    expect(result.exitCode).toBe(1);
    expect(Date.now() - (runningAt ?? 0)).toBeLessThan(60_000);
    const record = runJson();
    expect(record).toMatchObject({
      status: 'timed_out',
      exit_code: null,
      signal: 'SIGTERM',
      reason: 'timed out after 12 s',
    });
    expect(slurmJob(record.backend.details.job_id)).toMatchObject({
      JobState: 'CANCELLED',
      ExitCode: '0:15',
    });
  }, 600_000);

  /** A model that runs long the first time and briefly once requeued. */
  const twice =
    'if [ "${SLURM_RESTART_COUNT:-0}" = 0 ]; then echo first; sleep 300; else echo second; sleep 2; echo end; fi';

  /** Requeues job `id` once it has run `ranMs`, holds it `pendingMs` in the queue, then lets it start. */
  async function requeue(id: string, ranMs: number, pendingMs: number) {
    await until(() => slurmJob(id).JobState === 'RUNNING', 'the job runs');
    await sleep(ranMs);
    execFileSync('scontrol', ['requeue', id]);
    await until(() => slurmJob(id).JobState === 'PENDING', 'the job is requeued');
    await sleep(pendingMs);
    execFileSync('scontrol', ['update', `JobId=${id}`, 'StartTime=now']);
  }

  it("follows a requeued job to its end: queue_timeout was for the first start only, and the second run's output arrives", async () => {
    tree = makeTree();
    const h = pipelineHarness(
      tree,
      { run_id: uniqueId('requeued'), command: twice },
      {
        ...SMALL,
        queue_timeout: 60,
      },
    );
    const begun = Date.now();
    const run = runPipeline(h.request, h.deps);
    held = await submitted(h.captured.status);
    // Requeued once queue_timeout, counted from the submission, has passed.
    await requeue(held, Math.max(2000, begun + 61_000 - Date.now()), 2000);
    // Before: cancelled as "still PENDING after queue_timeout" at the requeue.
    expect((await run).exitCode).toBe(0);
    expect(h.runJson()).toMatchObject({ status: 'succeeded', exit_code: 0 });
    // Before, the second run's first line was lost: its output file began again.
    expect(readFileSync(join(h.staging, 'logs', 'stdout.log'), 'utf8')).toMatch(
      /^first\n(?:.|\n)*second\nend\n$/,
    );
    held = undefined;
  }, 600_000);

  it('gives a requeued job its whole timeout again once it runs, not counting its wait', async () => {
    tree = makeTree();
    const h = pipelineHarness(
      tree,
      { run_id: uniqueId('requeued-timeout'), command: twice },
      SMALL,
    );
    const run = runPipeline(h.request, { ...h.deps, timeoutMs: 15_000 });
    held = await submitted(h.captured.status);
    // Before, the clock ran on in the queue: 3 s + 17 s is past 15 s.
    await requeue(held, 3000, 17_000);
    expect((await run).exitCode).toBe(0);
    expect(h.runJson()).toMatchObject({ status: 'succeeded', exit_code: 0 });
    held = undefined;
  }, 600_000);

  it('on Ctrl-C of a RUNNING job, records no exit code and the summary shows none', async () => {
    const id = uniqueId('running-ctrl-c');
    tree = makeTree({
      'model.yml': `run_id: ${id}\ncommand: "echo started; sleep 300"\n`,
      'slurm.yml': 'type: slurm\ncpus_per_task: 1\nmem: 100M\ntime_limit: "00:05:00"\n',
    });
    const { child, exited, output } = await startModelrun(
      ['run', 'model.yml', '--backend-config', 'slurm.yml'],
      { cwd: tree.root },
    );
    try {
      await until(() => output().stdout.includes('started'), 'the job ran');
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(130);
    const record = JSON.parse(
      readFileSync(tree.path('simulations', id, '.modelrun', 'run.json'), 'utf8'),
    );
    expect(record).toMatchObject({
      status: 'cancelled',
      exit_code: null,
      signal: 'SIGTERM',
      reason: 'cancelled by SIGINT',
    });
    const { stderr } = output();
    expect(stderr).toMatch(
      new RegExp(`✗ ${id} cancelled: cancelled by SIGINT \\(signal SIGTERM, `),
    );
    expect(stderr).not.toContain('exit code 0');
  }, 600_000);
});
