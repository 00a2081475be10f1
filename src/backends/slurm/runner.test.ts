import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  COMPLETED,
  ended,
  PENDING,
  RUNNING,
  type Setup,
  setupSlurmRunner,
  states,
} from '../../../test/helpers/slurm-runner.js';
import { makeTree } from '../../../test/helpers/tree.js';
import { ConfigError, EngineUnavailableError, RunFailedError } from '../../errors.js';

const tree = makeTree();
afterAll(() => tree.remove());
const setup = (options?: Setup) => setupSlurmRunner(tree, options);

describe('following a job', () => {
  it('reports each state once, the pending reason with it, and ends with the job', async () => {
    const { run, statuses, hooks, slurm } = setup({
      slurm: {
        steps: [
          { ...PENDING('Priority'), looks: 2 },
          PENDING('Resources'),
          { ...RUNNING, looks: 3 },
          COMPLETED,
        ],
      },
    });
    const { outcome } = await run();
    expect(outcome).toEqual({ exitCode: 0, signal: null, details: { job_id: '4242' } });
    expect(statuses[0]).toMatch(
      /^submitted batch job 4242 \(modelrun-20240101-120000-r\d+\); script /,
    );
    expect(states(statuses)).toEqual([
      'job 4242 PENDING (Priority)',
      'job 4242 PENDING (Resources)',
      'job 4242 RUNNING on node7',
      'job 4242 COMPLETED',
    ]);
    // The run's timeout counts only while the job runs.
    expect(hooks).toEqual(['waiting', 'started', 'waiting']);
    expect(slurm.queries).toBe(7);
    expect(slurm.calls.filter((call) => call.startsWith('scancel'))).toEqual([]);
  });

  it('looks at once at first, then less often, never more than 5 s apart, and quickly again after a change', async () => {
    const { run, slurm, clock } = setup({
      slurm: {
        steps: [{ ...RUNNING, looks: 14 }, PENDING('BeginTime'), PENDING('BeginTime'), COMPLETED],
      },
    });
    const times: number[] = [];
    const query = slurm.query.bind(slurm);
    slurm.query = (id) => {
      times.push(clock.now());
      return query(id);
    };
    await run();
    const gaps = times.slice(1).map((time, i) => time - (times[i] ?? 0));
    // Looks fall on the 250 ms beats of the output tail.
    expect(gaps).toEqual([
      250, 500, 750, 1000, 1500, 2000, 3000, 4500, 5000, 5000, 5000, 5000, 5000, 5000, 250, 500,
    ]);
  });

  it('takes a job seen only once it had ended for one that ran, since its StartTime', async () => {
    const { run, hooks, startedAt } = setup({
      slurm: {
        steps: [
          PENDING('Priority'),
          ended({ state: 'COMPLETED', exitCode: 0, signal: 0, startTime: '2026-12-02T03:48:00' }),
        ],
      },
    });
    expect((await run()).outcome.exitCode).toBe(0);
    expect(hooks).toEqual(['waiting', 'started']);
    // scontrol's times are the local time of the host.
    expect(startedAt).toEqual([new Date(2026, 11, 2, 3, 48, 0)]);
  });

  it('a requeued job waits again, and its timeout with it', async () => {
    const { run, statuses, hooks } = setup({
      slurm: { steps: [PENDING('Priority'), RUNNING, PENDING('BeginTime'), RUNNING, COMPLETED] },
    });
    const { outcome } = await run();
    expect(outcome.exitCode).toBe(0);
    expect(hooks).toEqual(['waiting', 'started', 'waiting', 'started', 'waiting']);
    expect(states(statuses)).toEqual([
      'job 4242 PENDING (Priority)',
      'job 4242 RUNNING on node7',
      'job 4242 PENDING (BeginTime)',
      'job 4242 RUNNING on node7',
      'job 4242 COMPLETED',
    ]);
  });

  it("a job's end is its outcome: the model's exit code, or why Slurm ended it", async () => {
    const failed = setup({
      slurm: { steps: [RUNNING, ended({ state: 'FAILED', exitCode: 3, signal: 0 })] },
    });
    expect((await failed.run()).outcome).toEqual({
      exitCode: 3,
      signal: null,
      details: { job_id: '4242' },
    });
    const late = setup({
      slurm: { steps: [RUNNING, ended({ state: 'TIMEOUT', exitCode: 0, signal: 15 })] },
    });
    expect((await late.run()).outcome).toEqual({
      exitCode: null,
      signal: 'SIGTERM',
      reason: 'the job hit its Slurm time limit (TIMEOUT)',
      timedOut: true,
      details: { job_id: '4242' },
    });
  });

  it('a job that leaves the queue before its end was seen says so', async () => {
    const { run, held } = setup({
      slurm: { steps: [RUNNING, RUNNING, { state: 'gone' }] },
    });
    expect((await run()).outcome).toEqual({
      exitCode: null,
      signal: null,
      reason:
        'job 4242 left the queue before modelrun saw how it ended, and there is no accounting database to ask',
      details: { job_id: '4242' },
    });
    expect(held()).toEqual([]);
  });

  it('names the cluster in the handle, asked before sbatch so that nothing waits between the job and its guard', async () => {
    const { run, slurm, handles } = setup({ slurm: { steps: [COMPLETED] } });
    slurm.cluster = async () => {
      slurm.calls.push('cluster');
      return 'north';
    };
    await run();
    expect(slurm.calls.slice(0, 2)).toEqual(['cluster', 'submit']);
    expect(handles).toEqual([{ kind: 'slurm-job', id: '4242', cluster: 'north' }]);
  });

  it('a job that leaves the queue unseen ends with the exit status its script kept', async () => {
    const { run, stagingDir } = setup({ slurm: { steps: [RUNNING, { state: 'gone' }] } });
    mkdirSync(join(stagingDir, '.modelrun'), { recursive: true });
    writeFileSync(join(stagingDir, '.modelrun', 'job-exit'), '4242 3\n');
    expect((await run()).outcome).toEqual({
      exitCode: 3,
      signal: null,
      details: { job_id: '4242' },
    });
  });

  it("a look that gets no answer is not the job's end: the run says so, asks again 5 s later, and follows the job to its end", async () => {
    const { run, slurm, statuses, clock, held } = setup({
      slurm: {
        steps: [RUNNING, { state: 'no answer', looks: 3 }, { ...RUNNING, looks: 2 }, COMPLETED],
      },
    });
    const times: number[] = [];
    const query = slurm.query.bind(slurm);
    slurm.query = (id) => {
      times.push(clock.now());
      return query(id);
    };
    const { outcome } = await run();
    expect(outcome).toEqual({ exitCode: 0, signal: null, details: { job_id: '4242' } });
    expect(statuses.slice(1)).toEqual([
      'job 4242 RUNNING on node7',
      'no answer from Slurm about job 4242: the Slurm controller is unreachable: slurm_load_jobs error: Socket timed out on send/recv operation; asking again',
      // Said again once Slurm answers.
      'job 4242 RUNNING on node7',
      'job 4242 COMPLETED',
    ]);
    const gaps = times.slice(1).map((time, i) => time - (times[i] ?? 0));
    expect(gaps.slice(1, 4)).toEqual([5000, 5000, 5000]);
    expect(slurm.calls.filter((call) => call.startsWith('scancel'))).toEqual([]);
    expect(held()).toEqual([]);
  });

  it('a controller that stays silent is asked on, with a reminder every 5 minutes, until it answers', async () => {
    const { run, statuses } = setup({
      slurm: { steps: [RUNNING, { state: 'no answer', looks: 200 }, COMPLETED] },
    });
    const { outcome } = await run();
    expect(outcome.exitCode).toBe(0);
    expect(statuses.filter((line) => line.startsWith('still no answer'))).toEqual([
      'still no answer from Slurm about job 4242 after 5 min; asking again',
      'still no answer from Slurm about job 4242 after 10 min; asking again',
      'still no answer from Slurm about job 4242 after 15 min; asking again',
    ]);
  });

  it("sbatch's refusal is the run's error, and leaves no job to cancel", async () => {
    const { run, runner, slurm, held } = setup({
      slurm: {
        refusal: 'sbatch: error: Batch job submission failed: Invalid partition name specified\n',
      },
    });
    const error = await run().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunFailedError);
    expect((error as RunFailedError).message).toBe(
      'sbatch failed: sbatch: error: Batch job submission failed: Invalid partition name specified',
    );
    expect((error as RunFailedError).hint).toMatch(/^check `queue`/);
    expect(held()).toEqual([]);
    await runner.stop();
    expect(slurm.calls).toEqual(['submit']);
  });

  it('refuses a staging dir the batch script cannot name before it asks the cluster anything', async () => {
    const { runner, slurm } = setup({ stagingName: 'runs\nr1' });
    await expect(runner.check()).rejects.toThrow(ConfigError);
    await expect(runner.check()).rejects.toThrow(/the staging directory .*line feed/);
    expect(slurm.calls).toEqual([]);
  });

  it('refuses a staging dir with a backslash, which Slurm drops from the log file names', async () => {
    const { runner, slurm } = setup({ stagingName: 'a\\b' });
    await expect(runner.check()).rejects.toThrow(/holds a backslash, which Slurm drops/);
    expect(slurm.calls).toEqual([]);
  });

  it("the engine check is the client's", async () => {
    const unreachable = new EngineUnavailableError('the Slurm controller is unreachable: down');
    const { runner, slurm } = setup({ slurm: { unreachable } });
    await expect(runner.check()).rejects.toBe(unreachable);
    expect(slurm.calls).toEqual(['check']);
  });
});

describe('queue_timeout', () => {
  it('cancels a job still PENDING when it runs out, with the reason it waited', async () => {
    const { run, slurm, clock } = setup({
      config: { queue_timeout: '1m' },
      slurm: { steps: [PENDING('Priority'), PENDING('Resources')] },
    });
    let cancelledAt: number | undefined;
    const cancel = slurm.cancel.bind(slurm);
    slurm.cancel = (id, options) => {
      cancelledAt = clock.now();
      return cancel(id, options);
    };
    const { outcome } = await run();
    expect(outcome).toEqual({
      exitCode: null,
      signal: null,
      reason: 'job 4242 still PENDING (Resources) after queue_timeout 1m; cancelled',
      timedOut: true,
      details: { job_id: '4242' },
    });
    // Looked at when the wait runs out, not up to 5 s later.
    expect(cancelledAt).toBe(60_000);
    expect(slurm.calls.filter((call) => call.startsWith('scancel'))).toEqual([
      'scancel --state=PENDING 4242',
    ]);
  });

  it('a job that starts as the wait runs out is spared, and runs to its end', async () => {
    const { run, slurm } = setup({
      config: { queue_timeout: 1 },
      slurm: { steps: [PENDING('Resources')], cancel: { shows: [RUNNING, COMPLETED] } },
    });
    const { outcome } = await run();
    expect(outcome).toEqual({ exitCode: 0, signal: null, details: { job_id: '4242' } });
    expect(slurm.calls).toContain('scancel --state=PENDING 4242');
  });

  it('bounds only the wait before the first start', async () => {
    const { run, slurm } = setup({
      config: { queue_timeout: 1 },
      slurm: { steps: [RUNNING, { ...PENDING('BeginTime'), looks: 10 }, COMPLETED] },
    });
    expect((await run()).outcome.exitCode).toBe(0);
    expect(slurm.calls.filter((call) => call.startsWith('scancel'))).toEqual([]);
  });
});
