import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import {
  FakeSlurm,
  type FakeSlurmOptions,
  type FakeStep,
  TestClock,
} from '../../../test/helpers/fake-slurm.js';
import { makeTree } from '../../../test/helpers/tree.js';
import { diskPathContext } from '../../config/path-context.js';
import { EngineUnavailableError, RunFailedError } from '../../errors.js';
import type { RunOutput } from '../../exec/run-output.js';
import type { RunJob } from '../contract.js';
import { slurmConfigSchema } from './config.js';
import { createSlurmRunner } from './runner.js';
import type { JobState } from './state.js';

const tree = makeTree();
afterAll(() => tree.remove());

const PENDING = (reason: string): FakeStep => ({ state: { state: 'PENDING', reason } });
const RUNNING: FakeStep = { state: { state: 'RUNNING', nodes: 'node7', batchHost: 'node7' } };
const ended = (state: JobState): FakeStep => ({ state });
const COMPLETED = ended({ state: 'COMPLETED', exitCode: 0, signal: 0 });

let runs = 0;

interface Setup {
  config?: Record<string, unknown>;
  slurm?: FakeSlurmOptions;
  /** Where the job's output goes, as Slurm names the file; by default logs/slurm-4242.out. */
  files?: { stdout: string; stderr: string };
}

/** A runner on a fake cluster and a clock that moves only when the runner sleeps. */
function setup({ config = {}, slurm: options = {}, files }: Setup = {}) {
  const stagingDir = tree.path(`run-${++runs}`);
  mkdirSync(stagingDir);
  const job: RunJob = { runId: `20240101-120000-r${runs}`, stagingDir, modelCommand: 'sh run.sh' };
  const clock = new TestClock();
  const slurm = new FakeSlurm({
    clock,
    files: files ?? {
      stdout: join(stagingDir, 'logs', 'slurm-4242.out'),
      stderr: join(stagingDir, 'logs', 'slurm-4242.err'),
    },
    ...options,
  });
  const statuses: string[] = [];
  const parsed = slurmConfigSchema(diskPathContext(tree.root)).parse({ type: 'slurm', ...config });
  const stopper = new AbortController();
  const runner = createSlurmRunner(
    parsed,
    job,
    { env: {}, status: (line) => statuses.push(line) },
    () => ({ lines: [], data: {} }),
    slurm,
    clock,
  );
  /** The hooks the run's timeout follows, each change once. */
  const hooks: string[] = [];
  const hook = (name: string) => () => {
    if (hooks.at(-1) !== name) hooks.push(name);
  };
  const run = async () => {
    await runner.start(new AbortController().signal);
    const { output, text } = collectingOutput();
    const outcome = await runner.run(output, stopper.signal, {
      waiting: hook('waiting'),
      started: hook('started'),
    });
    return { outcome, text };
  };
  return { slurm, clock, runner, statuses, stopper, hooks, run, stagingDir };
}

/** The run's two output streams, each keeping what it was given. */
function collectingOutput() {
  const text = { stdout: '', stderr: '' };
  const sink = (name: keyof typeof text) =>
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        text[name] += chunk.toString();
        callback();
      },
    });
  const output: RunOutput = { stdout: sink('stdout'), stderr: sink('stderr') };
  return { output, text };
}

/** The lines after "submitted batch job …". */
const states = (statuses: string[]) => statuses.filter((line) => line.startsWith('job '));

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
    const { run, runner } = setup({ slurm: { steps: [RUNNING, RUNNING, { state: 'gone' }] } });
    expect((await run()).outcome).toEqual({
      exitCode: null,
      signal: null,
      reason:
        'job 4242 left the queue before modelrun saw how it ended, and there is no accounting database to ask',
      details: { job_id: '4242' },
    });
    expect(runner.leftovers()).toEqual([]);
  });

  it("sbatch's refusal is the run's error, and leaves no job to cancel", async () => {
    const { run, runner, slurm } = setup({
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
    expect(runner.leftovers()).toEqual([]);
    await runner.stop();
    expect(slurm.calls).toEqual(['submit']);
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

describe('stopping a job', () => {
  it('cancels it and waits until Slurm shows its end', async () => {
    const { run, runner, slurm, statuses, stopper } = setup({
      slurm: { steps: [{ ...RUNNING, looks: 100 }], cancel: { looks: 3 } },
    });
    /** Each look after scancel: what it showed, and whether the job was still the run's. */
    const looks: string[] = [];
    const query = slurm.query.bind(slurm);
    slurm.query = async (id) => {
      const state = await query(id);
      if (slurm.calls.includes('scancel 4242'))
        looks.push(`${state?.state} ${runner.leftovers().length === 0 ? 'gone' : 'held'}`);
      else if (statuses.some((line) => line.includes('RUNNING'))) stopper.abort();
      return state;
    };
    const { outcome } = await run();
    // Stopped by modelrun: the stop reason says why, so no exit code and no reason here.
    expect(outcome).toEqual({ exitCode: null, signal: 'SIGTERM', details: { job_id: '4242' } });
    // The job is the run's until a look shows its end, three looks after scancel.
    expect(looks.slice(0, 4)).toEqual([
      'RUNNING held',
      'RUNNING held',
      'RUNNING held',
      'CANCELLED held',
    ]);
    expect(runner.leftovers()).toEqual([]);
    await runner.stop();
    expect(slurm.calls.filter((call) => call.startsWith('scancel'))).toEqual(['scancel 4242']);
    expect(states(statuses).at(-1)).toBe('job 4242 CANCELLED');
  });

  it('does not escalate: a job that stays after scancel is looked at for a minute, then left as a leftover', async () => {
    const { run, runner, slurm, stopper, clock } = setup({
      slurm: { steps: [RUNNING], cancel: { shows: [RUNNING] } },
    });
    const running = run();
    while (slurm.queries === 0) await clock.sleep(0);
    stopper.abort();
    await runner.stop();
    expect(runner.leftovers()).toEqual(['slurm job 4242 (scancel 4242)']);
    // One scancel on the interrupt and one on stop, each followed by 120 looks 500 ms apart; nothing harder.
    expect(slurm.calls.filter((call) => call.startsWith('scancel'))).toEqual([
      'scancel 4242',
      'scancel 4242',
    ]);
    const afterStop = slurm.calls.slice(slurm.calls.lastIndexOf('scancel 4242') + 1);
    expect(afterStop.length).toBeGreaterThanOrEqual(120);
    expect(afterStop.every((call) => call === 'query 4242')).toBe(true);
    slurm.become([ended({ state: 'CANCELLED', exitCode: 0, signal: 9 })]);
    expect((await running).outcome).toEqual({
      exitCode: null,
      signal: 'SIGKILL',
      details: { job_id: '4242' },
    });
    expect(runner.leftovers()).toEqual([]);
  });

  it('a job submitted while the run was stopped is cancelled at once', async () => {
    const { run, slurm, stopper } = setup({ slurm: { steps: [PENDING('Priority')] } });
    const submit = slurm.submit.bind(slurm);
    slurm.submit = async (args, secrets) => {
      const id = await submit(args, secrets);
      stopper.abort();
      return id;
    };
    const { outcome } = await run();
    expect(slurm.calls.slice(0, 2)).toEqual(['submit', 'scancel 4242']);
    expect(outcome).toEqual({ exitCode: null, signal: 'SIGTERM', details: { job_id: '4242' } });
  });

  it('a run stopped before sbatch submits nothing', async () => {
    const { run, slurm, stopper } = setup();
    stopper.abort();
    expect((await run()).outcome).toEqual({
      exitCode: null,
      signal: null,
      reason: 'stopped before the job was submitted',
    });
    expect(slurm.calls).toEqual([]);
  });

  it('a scancel that cannot run is reported, and the job followed to its end', async () => {
    const { run, slurm, statuses, stopper } = setup({
      slurm: {
        steps: [RUNNING, RUNNING, COMPLETED],
        cancel: {
          error: new EngineUnavailableError(
            'scancel is not on PATH, so Slurm cannot be used from here',
          ),
        },
      },
    });
    const query = slurm.query.bind(slurm);
    slurm.query = async (id) => {
      stopper.abort();
      return query(id);
    };
    const { outcome } = await run();
    expect(statuses).toContain(
      'scancel 4242 failed: scancel is not on PATH, so Slurm cannot be used from here',
    );
    expect(outcome).toEqual({ exitCode: null, signal: null, details: { job_id: '4242' } });
  });
});

describe("the job's output", () => {
  it('is tailed while the job runs, and read to its end after', async () => {
    const { run } = setup({
      slurm: {
        steps: [
          { ...RUNNING, stdout: 'step 1\n', stderr: 'warming up\n' },
          { ...RUNNING, stdout: 'step 2\n' },
          { ...COMPLETED, stdout: 'done\n', stderr: 'bye\n' },
        ],
      },
    });
    const { text } = await run();
    expect(text).toEqual({ stdout: 'step 1\nstep 2\ndone\n', stderr: 'warming up\nbye\n' });
  });

  it('takes lines a shared filesystem shows late, up to two quiet looks 100 ms apart', async () => {
    const { run } = setup({
      slurm: {
        steps: [
          RUNNING,
          {
            ...COMPLETED,
            stdout: 'last\n',
            late: { afterMs: 150, stdout: 'late\n', stderr: 'late too\n' },
          },
        ],
      },
    });
    expect((await run()).text).toEqual({ stdout: 'last\nlate\n', stderr: 'late too\n' });
  });

  it('does not wait for lines later than that', async () => {
    const { run } = setup({
      slurm: {
        steps: [
          RUNNING,
          { ...COMPLETED, stdout: 'last\n', late: { afterMs: 1000, stdout: 'lost\n' } },
        ],
      },
    });
    expect((await run()).text.stdout).toBe('last\n');
  });

  it('stops reading a file that keeps growing after 20 looks', async () => {
    const { run, slurm, clock, stagingDir } = setup({ slurm: { steps: [RUNNING, COMPLETED] } });
    const out = join(stagingDir, 'logs', 'slurm-4242.out');
    const grow = () => {
      appendFileSync(out, 'x\n');
      clock.after(100, grow);
    };
    const query = slurm.query.bind(slurm);
    slurm.query = async (id) => {
      const state = await query(id);
      if (state?.state === 'COMPLETED') grow();
      return state;
    };
    const { text } = await run();
    expect(text.stdout).toBe('x\n'.repeat(20));
  });

  it('is found once the job has its node, for a file named after it (%N)', async () => {
    const dir = tree.path(`named-${runs}`);
    const { run } = setup({
      config: { output_file: join(dir, '%N-%j.out'), error_file: join(dir, '%N-%j.err') },
      files: { stdout: join(dir, 'node7-4242.out'), stderr: join(dir, 'node7-4242.err') },
      slurm: { steps: [PENDING('Priority'), { ...RUNNING, stdout: 'on node7\n' }, COMPLETED] },
    });
    expect((await run()).text.stdout).toBe('on node7\n');
  });
});
