import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { treeForEachTest } from '../../../test/helpers/tree.js';
import { diskPathContext } from '../../config/path-context.js';
import { RunFailedError, UsageError } from '../../errors.js';
import type { BatchOptions, RunJob } from '../contract.js';
import { ARRAY_POLL_MS, SlurmArray, throttlePlan } from './array.js';
import type { CancelAnswer, CancelOptions, SlurmClient } from './client.js';
import { type SlurmConfig, slurmConfigSchema } from './config.js';
import { sbatchArgs, scriptPath, secretEnv } from './script.js';
import type { JobState } from './state.js';

const PENDING: JobState = { state: 'PENDING', reason: 'Priority' };
const RUNNING: JobState = { state: 'RUNNING', nodes: 'node7' };
const COMPLETED: JobState = { state: 'COMPLETED', exitCode: 0, signal: 0 };

/**
 * Slurm behind the SlurmClient interface, keeping every call. An array
 * submitted with `--array=0-N` gets tasks `<id>_0` to `<id>_N`, pending
 * until a test says otherwise in `tasks`; an array none of whose tasks are
 * left there is one Slurm has forgotten.
 */
class FakeCluster implements SlurmClient {
  /** sbatch's args and environment, and the script it was given as it read then. */
  readonly submits: { args: string[]; secrets: Record<string, string>; script: string }[] = [];
  readonly shows: string[] = [];
  readonly cancels: { ids: string | readonly string[]; options?: CancelOptions }[] = [];
  readonly tasks = new Map<string, JobState>();
  checks = 0;
  clusters = 0;
  /** sbatch refuses arrays whose script holds this. */
  refuse: string | undefined;
  /** This many looks more get no answer. */
  silent = 0;
  /** scancel cannot be run. */
  cancelError: Error | undefined;
  private next = 7000;

  async check(): Promise<void> {
    this.checks++;
  }

  async submit(args: string[], secrets: Record<string, string> = {}): Promise<string> {
    const script = readFileSync(args.at(-1) ?? '', 'utf8');
    this.submits.push({ args, secrets, script });
    if (this.refuse !== undefined && script.includes(this.refuse))
      throw new RunFailedError('sbatch: error: Batch job submission failed: Invalid account');
    const id = String(this.next++);
    const last = /^--array=0-(\d+)%\d+$/.exec(args.find((arg) => arg.startsWith('--array=')) ?? '');
    for (let task = 0; task <= Number(last?.[1] ?? -1); task++)
      this.tasks.set(`${id}_${task}`, PENDING);
    return id;
  }

  async query(): Promise<never> {
    throw new Error('a member asks the array, never Slurm, for its state');
  }

  async cancel(ids: string | readonly string[], options?: CancelOptions): Promise<CancelAnswer> {
    this.cancels.push(options === undefined ? { ids } : { ids, options });
    if (this.cancelError !== undefined) throw this.cancelError;
    return { done: true };
  }

  async queued(): Promise<never> {
    throw new Error('a member asks the array, never squeue, whether it is queued');
  }

  async cluster(): Promise<string> {
    this.clusters++;
    return 'hpc1';
  }

  async showArray(array: string): Promise<Map<string, JobState> | undefined> {
    this.shows.push(array);
    if (this.silent > 0) {
      this.silent--;
      throw new RunFailedError('scontrol: slurm_load_jobs error: Socket timed out');
    }
    const tasks = new Map([...this.tasks].filter(([task]) => task.startsWith(`${array}_`)));
    return tasks.size > 0 ? tasks : undefined;
  }

  /** Sets every task's state, of every array. */
  all(state: JobState): void {
    for (const task of this.tasks.keys()) this.tasks.set(task, state);
  }
}

const tree = treeForEachTest();
const opened: SlurmArray[] = [];

beforeEach(() => {
  // Only timers: the files the array writes, and the turns of the event loop that wait for them, stay real.
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});

afterEach(async () => {
  const closing = Promise.all(opened.splice(0).map((array) => array.close()));
  await vi.runOnlyPendingTimersAsync();
  await closing;
  vi.useRealTimers();
});

/** Turns of the event loop until `done` holds: the array's writes and sbatch happen meanwhile. */
async function until(done: () => boolean): Promise<void> {
  for (let turn = 0; !done(); turn++) {
    if (turn > 1000) throw new Error('gave up waiting');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Whether the promise has settled yet, after the event loop has had a few turns. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
  return done;
}

/** The time until the poller's next look, and that look. */
async function nextPoll(cluster: FakeCluster): Promise<void> {
  const looks = cluster.shows.length;
  await vi.advanceTimersByTimeAsync(ARRAY_POLL_MS);
  await until(() => cluster.shows.length > looks);
  await until(() => true);
}

function slurmConfig(fields: Record<string, unknown> = {}): SlurmConfig {
  return slurmConfigSchema(diskPathContext(tree.root)).parse({ type: 'slurm', ...fields });
}

/**
 * An ensemble of `runIds` on a fake cluster, with each member's staging dir
 * under the ensemble's folder, its logs/ folder made as the runner makes it.
 */
function ensemble(runIds: string[], options: Partial<BatchOptions> = {}) {
  const cluster = new FakeCluster();
  const stopper = new AbortController();
  const statuses: string[] = [];
  const dir = tree.path('ensemble');
  mkdirSync(dir);
  const logs = tree.path('state');
  const env = options.env ?? {};
  const array = new SlurmArray(
    {
      id: 'ens-1',
      dir,
      members: runIds,
      maxParallel: 4,
      env,
      status: (line) => statuses.push(line),
      signal: stopper.signal,
      logFolder: () => {
        mkdirSync(logs, { recursive: true });
        return logs;
      },
      ...options,
    },
    cluster,
  );
  opened.push(array);
  const member = (runId: string, fields: Record<string, unknown> = {}, folder = runId) => {
    const job: RunJob = {
      runId,
      stagingDir: join(dir, 'members', folder),
      modelCommand: 'sh run.sh',
    };
    mkdirSync(join(job.stagingDir, 'logs'), { recursive: true });
    const config = slurmConfig(fields);
    const slurm = array.clientFor(config, job);
    /** Joins the array as the runner submits: its own sbatch args and secrets. */
    const submit = () => slurm.submit(sbatchArgs(config, job, env), secretEnv(config, env));
    return { job, slurm, submit };
  };
  const script = (n = 0) => readFileSync(join(dir, '.modelrun', `slurm-array-${n}.sh`), 'utf8');
  return { array, cluster, stopper, statuses, dir, logs, member, script };
}

describe('joining the array', () => {
  it('submits nothing until every member has joined or left, and leaves out those that left', async () => {
    const { array, cluster, member, script } = ensemble(['a', 'b', 'c']);
    const a = member('a').submit();
    const c = member('c').submit();
    expect(await settled(Promise.race([a, c]))).toBe(false);
    expect(cluster.submits).toEqual([]);
    array.leave('b');
    expect([await a, await c]).toEqual(['7000_0', '7000_1']);
    expect(cluster.submits).toHaveLength(1);
    expect(cluster.submits[0]?.args).toContain('--array=0-1%2');
    expect(script()).toContain('/members/a/');
    expect(script()).not.toContain('/members/b/');
    expect(script()).toContain('/members/c/');
  });

  it('submits nothing at all when every member left', async () => {
    const { array, cluster, dir } = ensemble(['a', 'b']);
    array.leave('a');
    array.leave('b');
    await until(() => true);
    expect(cluster.submits).toEqual([]);
    expect(existsSync(join(dir, '.modelrun'))).toBe(false);
  });

  it.each([
    ['fewer members than max_parallel', 4, 3, '--array=0-2%3'],
    ['more members than max_parallel', 2, 3, '--array=0-2%2'],
    ['max_parallel 1', 1, 3, '--array=0-2%1'],
    ['a single member', 10, 1, '--array=0-0%1'],
  ])(
    'submits members of equal resources as one array, with %s: %s',
    async (_what, maxParallel, size, option) => {
      const runIds = Array.from({ length: size }, (_, i) => `m${i}`);
      const { cluster, member, dir, logs, statuses } = ensemble(runIds, { maxParallel });
      const ids = await Promise.all(runIds.map((runId) => member(runId, { mem: '1G' }).submit()));
      expect(ids).toEqual(runIds.map((_, task) => `7000_${task}`));
      const script = join(dir, '.modelrun', 'slurm-array-0.sh');
      expect(cluster.submits.map((s) => s.args)).toEqual([['--parsable', option, script]]);
      expect(statuses).toEqual([
        `submitted job array 7000 (${size} member${size === 1 ? '' : 's'}, at most ${Math.min(maxParallel, size)} at once); script ${script}; log ${join(logs, 'ens-1-slurm-array-7000.log')}`,
      ]);
    },
  );

  it('submits one array per set of resources, each member with a task of its own array', async () => {
    const { cluster, member, script } = ensemble(['a', 'b', 'c', 'd'], { maxParallel: 4 });
    const ids = await Promise.all([
      member('a', { mem: '1G' }).submit(),
      member('b', { mem: '2G' }).submit(),
      member('c', { mem: '1G' }).submit(),
      member('d', { mem: '1G', time_limit: '01:00:00' }).submit(),
    ]);
    expect(ids).toEqual(['7000_0', '7001_0', '7000_1', '7002_0']);
    expect(cluster.submits.map((s) => s.args.find((arg) => arg.startsWith('--array=')))).toEqual([
      '--array=0-1%2',
      '--array=0-0%1',
      '--array=0-0%1',
    ]);
    expect(script(0)).toMatch(/^#SBATCH --mem="1G"$/m);
    expect(script(0)).not.toMatch(/--time/);
    expect(script(1)).toMatch(/^#SBATCH --mem="2G"$/m);
    expect(script(2)).toMatch(/^#SBATCH --mem="1G"$/m);
    expect(script(2)).toMatch(/^#SBATCH --time=/m);
  });

  it('shares max_parallel out among the arrays by their sizes, as Slurm throttles each alone', async () => {
    const runIds = ['a', 'b', 'c', 'd', 'e', 'f'];
    const { cluster, member } = ensemble(runIds, { maxParallel: 4 });
    await Promise.all(
      runIds.map((runId, i) => member(runId, { mem: i % 2 === 0 ? '1G' : '2G' }).submit()),
    );
    expect(cluster.submits.map((s) => s.args.find((arg) => arg.startsWith('--array=')))).toEqual([
      '--array=0-2%2',
      '--array=0-2%2',
    ]);
  });

  // On the old code each array got at least 1 beside its share: more arrays than
  // max_parallel, or small ones beside a large one, ran more members at once.
  it('chains arrays in max_parallel lanes when there are more arrays than that', async () => {
    const runIds = ['a', 'b', 'c'];
    const { cluster, member } = ensemble(runIds, { maxParallel: 2 });
    await Promise.all(runIds.map((runId, i) => member(runId, { mem: `${i + 1}G` }).submit()));
    expect(
      cluster.submits.map((s) => s.args.filter((arg) => /^--(array|dependency)=/.test(arg))),
    ).toEqual([
      ['--array=0-0%1'],
      ['--array=0-0%1'],
      ['--dependency=afterany:7000', '--array=0-0%1'],
    ]);
  });

  it.each([
    [
      'small arrays beside a large one',
      [1, 1, 10],
      3,
      [{ throttle: 1 }, { throttle: 1 }, { throttle: 1 }],
    ],
    [
      'by members per running task',
      [2, 1, 1],
      4,
      [{ throttle: 2 }, { throttle: 1 }, { throttle: 1 }],
    ],
    ['never more than an array has', [1, 2], 10, [{ throttle: 1 }, { throttle: 2 }]],
    [
      'more arrays than max_parallel',
      [3, 3, 3, 3, 3],
      2,
      [
        { throttle: 1 },
        { throttle: 1 },
        { throttle: 1, after: 0 },
        { throttle: 1, after: 1 },
        { throttle: 1, after: 2 },
      ],
    ],
    [
      'a large array beside small ones, in a lane of its own',
      [100, 1, 1],
      2,
      [{ throttle: 1 }, { throttle: 1 }, { throttle: 1, after: 1 }],
    ],
  ])('throttles %s so that no more than max_parallel run', (_what, sizes, max, plan) => {
    expect(throttlePlan(sizes, max)).toEqual(plan);
  });

  // On the old code the third array went without a dependency once the second was refused.
  it('chains an array behind the last one of its lane that was submitted', async () => {
    const runIds = ['a', 'b', 'c'];
    const { cluster, member } = ensemble(runIds, { maxParallel: 1 });
    cluster.refuse = '--mem="2G"';
    await Promise.allSettled(
      runIds.map((runId, i) => member(runId, { mem: `${i + 1}G` }).submit()),
    );
    expect(
      cluster.submits.map((s) => s.args.filter((arg) => /^--(array|dependency)=/.test(arg))),
    ).toEqual([
      ['--array=0-0%1'],
      ['--dependency=afterany:7000', '--array=0-0%1'],
      ['--dependency=afterany:7000', '--array=0-0%1'],
    ]);
  });

  it("writes a % in the log folder's path as %%, which Slurm reads back as one", async () => {
    const logs = tree.path('100%j done');
    mkdirSync(logs);
    const { member, script } = ensemble(['a'], { logFolder: () => logs });
    await member('a').submit();
    expect(script()).toContain(
      `#SBATCH --output="${tree.path('100%%j done')}/ens-1-slurm-array-%A.log"`,
    );
  });

  it('numbers the tasks in the ensemble order of members, whatever order they joined in', async () => {
    const { member, script } = ensemble(['a', 'b', 'c']);
    const c = member('c').submit();
    const a = member('a').submit();
    const b = member('b').submit();
    expect({ a: await a, b: await b, c: await c }).toEqual({
      a: '7000_0',
      b: '7000_1',
      c: '7000_2',
    });
    const cases = [...script().matchAll(/^ {2}(\d+)\)\n.*\n {4}cd '([^']*)'/gm)].map(
      ([, task, dir]) => [task, dir?.split('/').at(-1)],
    );
    expect(cases).toEqual([
      ['0', 'a'],
      ['1', 'b'],
      ['2', 'c'],
    ]);
  });

  it('refuses a member that joins once the array is submitted', async () => {
    const { member } = ensemble(['a']);
    await member('a').submit();
    await expect(member('late').submit()).rejects.toThrow(RunFailedError);
  });

  it("rejects only the members of an array that sbatch refused, with sbatch's refusal", async () => {
    const { cluster, member } = ensemble(['a', 'b']);
    cluster.refuse = '--account="nope"';
    const a = member('a').submit();
    const b = member('b', { account: 'nope' }).submit();
    expect(await a).toBe('7000_0');
    await expect(b).rejects.toThrow('Invalid account');
    expect(cluster.submits).toHaveLength(2);
  });
});

describe("the array's own log", () => {
  it('goes to the log folder, never into the ensemble folder, where a model could link it elsewhere', async () => {
    const { member, script, dir, logs } = ensemble(['a', 'b']);
    await Promise.all([member('a').submit(), member('b').submit()]);
    const directives = script()
      .split('\n')
      .filter((line) => /^#SBATCH --(output|error)=/.test(line));
    expect(directives).toEqual([
      `#SBATCH --output="${logs}/ens-1-slurm-array-%A.log"`,
      `#SBATCH --error="${logs}/ens-1-slurm-array-%A.log"`,
    ]);
    expect(directives.filter((line) => line.includes(dir))).toEqual([]);
  });

  it('is asked for its folder only when the array is submitted', async () => {
    const logFolder = vi.fn(() => tree.path('ensemble'));
    const { array } = ensemble(['a'], { logFolder });
    array.leave('a');
    await until(() => true);
    expect(logFolder).not.toHaveBeenCalled();
  });

  it("fails the members with the folder's own error when it cannot be made", async () => {
    const { cluster, member } = ensemble(['a'], {
      logFolder: () => {
        throw new UsageError(
          "an ensemble's job array keeps its log in /nope, which cannot be used",
        );
      },
    });
    await expect(member('a').submit()).rejects.toThrow('keeps its log in /nope');
    expect(cluster.submits).toEqual([]);
  });
});

describe('the array script', () => {
  /** Runs task `task` of the array script as Slurm would, on this host. */
  const runTask = (script: string, task: number) =>
    spawnSync('/bin/bash', [script], {
      env: {
        PATH: process.env.PATH,
        SLURM_ARRAY_JOB_ID: '7000',
        SLURM_ARRAY_TASK_ID: String(task),
      },
      encoding: 'utf8',
    });

  it("runs task i's member script in its dir, its output in the member's logs named by the task", async () => {
    // Folder names the shell and Slurm's patterns must both take as written.
    const folders = ['plain', "it's here", '100% done'];
    const { member, dir } = ensemble(['a', 'b', 'c']);
    const members = folders.map((folder, i) => member('abc'[i] as string, {}, folder));
    for (const { job } of members)
      writeFileSync(
        scriptPath(job.stagingDir),
        'echo "task $MODELRUN_SLURM_TASK in $PWD"\necho "to stderr" >&2\nexit 3\n',
      );
    await Promise.all(members.map((m) => m.submit()));
    const script = join(dir, '.modelrun', 'slurm-array-0.sh');
    for (const [task, { job }] of members.entries()) {
      const ran = runTask(script, task);
      expect(ran.status).toBe(3);
      expect(readFileSync(join(job.stagingDir, 'logs', `slurm-7000_${task}.out`), 'utf8')).toBe(
        `task 7000_${task} in ${job.stagingDir}\n`,
      );
      expect(readFileSync(join(job.stagingDir, 'logs', `slurm-7000_${task}.err`), 'utf8')).toBe(
        'to stderr\n',
      );
    }
    const stray = runTask(script, 3);
    expect(stray.status).toBe(1);
    expect(stray.stderr).toBe('modelrun: no member for array task 3\n');
  });

  it('holds one case per task and the directives the members share, for the ensemble', async () => {
    const { member, script, dir, logs } = ensemble(['a', 'b']);
    const a = member('a', { mem: '1G', queue: 'short', exclusive: true });
    const b = member('b', { mem: '1G', queue: 'short', exclusive: true });
    await Promise.all([a.submit(), b.submit()]);
    const text = script();
    expect(text.startsWith('#!/bin/bash\n')).toBe(true);
    expect(text.match(/^ {2}\d+\)$/gm)).toEqual(['  0)', '  1)']);
    for (const { job } of [a, b]) {
      expect(text).toContain(`    cd '${job.stagingDir}' || exit 1\n`);
      expect(text).toContain(`    exec /bin/bash '${job.stagingDir}/slurm-job.sh' >`);
    }
    const log = join(logs, 'ens-1-slurm-array-%A.log');
    for (const line of [
      '#SBATCH --job-name="modelrun-ens-1"',
      `#SBATCH --output="${log}"`,
      `#SBATCH --error="${log}"`,
      `#SBATCH --chdir="${dir}"`,
      '#SBATCH --partition="short"',
      '#SBATCH --mem="1G"',
      '#SBATCH --exclusive',
    ])
      expect(text.split('\n')).toContain(line);
  });

  it('cds into the working dir of a member that has one, and runs the script of its staging dir', async () => {
    const { member, script } = ensemble(['a']);
    const work = tree.path('work');
    mkdirSync(work);
    const a = member('a', { working_dir: work });
    await a.submit();
    expect(script()).toContain(`    cd '${work}' || exit 1\n`);
    expect(script()).toContain(`exec /bin/bash '${a.job.stagingDir}/slurm-job.sh'`);
  });
});

describe('secrets', () => {
  it("go to sbatch in its environment, named by --export, never in the script or sbatch's args", async () => {
    const { cluster, member } = ensemble(['a', 'b']);
    const fields = { env_vars: { API_TOKEN: 'tok-123', MODE: 'fast' } };
    await Promise.all([member('a', fields).submit(), member('b', fields).submit()]);
    expect(cluster.submits).toEqual([
      {
        args: expect.arrayContaining(['--export=ALL,API_TOKEN']),
        secrets: { API_TOKEN: 'tok-123' },
        script: expect.not.stringContaining('tok-123'),
      },
    ]);
    expect(cluster.submits[0]?.args.join(' ')).not.toContain('tok-123');
  });

  it("of another value put the member in an array of its own: one sbatch's environment holds one", async () => {
    const { cluster, member } = ensemble(['a', 'b']);
    const ids = await Promise.all([
      member('a', { env_vars: { API_TOKEN: 'one' } }).submit(),
      member('b', { env_vars: { API_TOKEN: 'two' } }).submit(),
    ]);
    expect(ids).toEqual(['7000_0', '7001_0']);
    expect(cluster.submits.map((s) => s.secrets)).toEqual([
      { API_TOKEN: 'one' },
      { API_TOKEN: 'two' },
    ]);
  });
});

describe('following the tasks', () => {
  it('looks at Slurm once a poll interval, however many members ask how their tasks are', async () => {
    const runIds = ['a', 'b', 'c', 'd', 'e'];
    const { array, cluster, member } = ensemble(runIds);
    const members = runIds.map((runId) => member(runId));
    const ids = await Promise.all(members.map((m) => m.submit()));
    const ask = () =>
      Promise.all(
        members.flatMap((m, i) => [
          m.slurm.query(ids[i] as string),
          m.slurm.queued(ids[i] as string),
        ]),
      );
    await Promise.all([ask(), ask(), ask()]);
    expect(cluster.shows).toEqual(['7000']);
    await vi.advanceTimersByTimeAsync(ARRAY_POLL_MS - 1);
    await ask();
    expect(cluster.shows).toEqual(['7000']);
    await nextPoll(cluster);
    await ask();
    expect(cluster.shows).toEqual(['7000', '7000']);
    expect(array.calls).toEqual({ sbatch: 1, queries: 2 });
  });

  it('looks at each array of the ensemble once a poll', async () => {
    const { cluster, member } = ensemble(['a', 'b']);
    await Promise.all([member('a', { mem: '1G' }).submit(), member('b', { mem: '2G' }).submit()]);
    await until(() => cluster.shows.length === 2);
    await nextPoll(cluster);
    expect(cluster.shows).toEqual(['7000', '7001', '7000', '7001']);
  });

  it("answers each task's state at the last look", async () => {
    const { cluster, member } = ensemble(['a', 'b']);
    const a = member('a');
    const b = member('b');
    await Promise.all([a.submit(), b.submit()]);
    expect(await a.slurm.query('7000_0')).toEqual(PENDING);
    cluster.tasks.set('7000_0', RUNNING);
    cluster.tasks.set('7000_1', COMPLETED);
    expect(await a.slurm.query('7000_0')).toEqual(PENDING);
    await nextPoll(cluster);
    expect(await a.slurm.query('7000_0')).toEqual(RUNNING);
    expect(await a.slurm.queued('7000_0')).toBe(true);
    expect(await b.slurm.query('7000_1')).toEqual(COMPLETED);
    expect(await b.slurm.queued('7000_1')).toBe(false);
  });

  it('ends the sleep of every follower at each new look', async () => {
    const { array, cluster, member } = ensemble(['a']);
    await member('a').submit();
    const asleep = [array.clock.sleep(60_000), array.clock.sleep(60_000)];
    expect(await settled(Promise.all(asleep))).toBe(false);
    await nextPoll(cluster);
    expect(await settled(Promise.all(asleep))).toBe(true);
  });

  it('answers undefined once Slurm has forgotten the array, and looks no more', async () => {
    const { cluster, member } = ensemble(['a']);
    const a = member('a');
    await a.submit();
    cluster.tasks.clear();
    await nextPoll(cluster);
    expect(await a.slurm.query('7000_0')).toBeUndefined();
    expect(await a.slurm.queued('7000_0')).toBe(false);
    await vi.advanceTimersByTimeAsync(5 * ARRAY_POLL_MS);
    expect(cluster.shows).toEqual(['7000', '7000']);
  });

  it('looks no more once every task has ended', async () => {
    const { cluster, member } = ensemble(['a', 'b']);
    await Promise.all([member('a').submit(), member('b').submit()]);
    cluster.all(COMPLETED);
    await nextPoll(cluster);
    await vi.advanceTimersByTimeAsync(5 * ARRAY_POLL_MS);
    expect(cluster.shows).toEqual(['7000', '7000']);
  });

  it('keeps the last answer through a look that got none, and looks again', async () => {
    const { cluster, member } = ensemble(['a']);
    const a = member('a');
    await a.submit();
    cluster.silent = 1;
    cluster.all(RUNNING);
    await nextPoll(cluster);
    expect(await a.slurm.query('7000_0')).toEqual(PENDING);
    await nextPoll(cluster);
    expect(await a.slurm.query('7000_0')).toEqual(RUNNING);
  });

  it('rejects the queries while the first look got no answer, and answers them from the next look', async () => {
    const { cluster, member } = ensemble(['a']);
    const a = member('a');
    cluster.silent = 1;
    await a.submit();
    await expect(a.slurm.query('7000_0')).rejects.toThrow('Socket timed out');
    await nextPoll(cluster);
    expect(await a.slurm.query('7000_0')).toEqual(PENDING);
  });
});

describe('cancelling', () => {
  it('sends the cancels of several tasks within the window as one scancel', async () => {
    const { cluster, member } = ensemble(['a', 'b', 'c']);
    const members = ['a', 'b', 'c'].map((runId) => member(runId));
    const ids = await Promise.all(members.map((m) => m.submit()));
    const answers = Promise.all(members.map((m, i) => m.slurm.cancel(ids[i] as string)));
    expect(cluster.cancels).toEqual([]);
    await vi.advanceTimersByTimeAsync(20);
    expect(await answers).toEqual([{ done: true }, { done: true }, { done: true }]);
    expect(cluster.cancels).toEqual([{ ids: ['7000_0', '7000_1', '7000_2'] }]);
    const later = members[0]?.slurm.cancel('7000_0');
    await vi.advanceTimersByTimeAsync(20);
    await later;
    expect(cluster.cancels.at(-1)).toEqual({ ids: ['7000_0'] });
  });

  it('answers every cancel of the window with what failed when scancel cannot be run', async () => {
    const { cluster, member } = ensemble(['a', 'b']);
    const members = ['a', 'b'].map((runId) => member(runId));
    const ids = await Promise.all(members.map((m) => m.submit()));
    cluster.cancelError = new Error('scancel: not found');
    const answers = Promise.all(members.map((m, i) => m.slurm.cancel(ids[i] as string)));
    await vi.advanceTimersByTimeAsync(20);
    expect(await answers).toEqual([
      { done: false, said: 'scancel: not found' },
      { done: false, said: 'scancel: not found' },
    ]);
  });

  it('sends a cancel of pending tasks only, or of a list, at once as asked', async () => {
    const { cluster, member } = ensemble(['a']);
    const a = member('a');
    await a.submit();
    await a.slurm.cancel('7000_0', { onlyPending: true });
    await a.slurm.cancel(['7000_0']);
    expect(cluster.cancels).toEqual([
      { ids: '7000_0', options: { onlyPending: true } },
      { ids: ['7000_0'] },
    ]);
  });
});

describe('stopping', () => {
  it('rejects every waiting member at an abort before the submission, submits nothing, and refuses later joins', async () => {
    const { array, cluster, member, stopper, dir } = ensemble(['a', 'b', 'c']);
    const waiting = [member('a').submit(), member('b').submit()];
    stopper.abort();
    for (const [i, joined] of waiting.entries()) {
      await expect(joined).rejects.toThrow(RunFailedError);
      await expect(joined).rejects.toThrow(
        `the ensemble was stopped before ${'ab'[i]} was submitted`,
      );
    }
    const late = member('c').submit();
    expect(await settled(late)).toBe(true);
    await expect(late).rejects.toThrow(RunFailedError);
    array.leave('c');
    await until(() => true);
    expect(cluster.submits).toEqual([]);
    expect(existsSync(join(dir, '.modelrun'))).toBe(false);
  });

  it('rejects the members still waiting when the batch is closed', async () => {
    const { array, cluster, member } = ensemble(['a', 'b']);
    const a = member('a').submit();
    await array.close();
    await expect(a).rejects.toThrow(RunFailedError);
    array.leave('b');
    expect(cluster.submits).toEqual([]);
  });

  it('ends the poller at close() at once, though tasks still run', async () => {
    const { array, cluster, member } = ensemble(['a']);
    await member('a').submit();
    cluster.all(RUNNING);
    await nextPoll(cluster);
    // Not a poll interval later: the ensemble's end waits for this.
    expect(await settled(array.close())).toBe(true);
    const looks = cluster.shows.length;
    await vi.advanceTimersByTimeAsync(5 * ARRAY_POLL_MS);
    expect(cluster.shows).toHaveLength(looks);
  });
});

describe('check', () => {
  it.each([
    ['output_file', { output_file: 'out-%j.log' }],
    ['error_file', { error_file: 'err-%j.log' }],
    ['output_file and error_file', { output_file: 'out-%j.log', error_file: 'err-%j.log' }],
  ])('refuses a config with %s, naming it', async (fields, config) => {
    const { cluster, member } = ensemble(['a']);
    const check = member('a', config).slurm.check();
    await expect(check).rejects.toThrow(UsageError);
    await expect(check).rejects.toThrow(
      `${fields}: an ensemble on Slurm writes each member's output into the logs/ folder of its run dir`,
    );
    expect(cluster.checks).toBe(0);
  });

  it("asks Slurm once for every member, and the cluster's name once too", async () => {
    const { cluster, member } = ensemble(['a', 'b', 'c']);
    const members = ['a', 'b', 'c'].map((runId) => member(runId));
    await Promise.all(members.map((m) => m.slurm.check()));
    const names = await Promise.all(members.map((m) => m.slurm.cluster?.()));
    expect(names).toEqual(['hpc1', 'hpc1', 'hpc1']);
    expect(cluster.checks).toBe(1);
    expect(cluster.clusters).toBe(1);
  });
});
