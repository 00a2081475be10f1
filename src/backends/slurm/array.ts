import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { RunFailedError, UsageError } from '../../errors.js';
import { stringEnv } from '../../exec/env.js';
import { replaceFile } from '../../exec/link-safe.js';
import { shellQuote } from '../../exec/shell.js';
import { VERSION } from '../../package-info.js';
import { count } from '../../plural.js';
import type { BatchOptions, RunBatch, RunJob } from '../contract.js';
import type { CancelAnswer, CancelOptions, SlurmClient } from './client.js';
import type { SlurmConfig } from './config.js';
import { expandFilename, literalInPattern } from './filename.js';
import type { PollClock } from './follow.js';
import {
  directiveLines,
  errorPattern,
  optionLines,
  outputPattern,
  resourceDirectives,
  scriptPath,
  secretEnv,
} from './script.js';
import { ARRAY_TASK_ID_VARIABLE, arrayScriptName, MEMBER_LOGS } from './script-name.js';
import { FINAL_STATES, type JobState } from './state.js';
import { guardSubmission, type SlurmSubmissionTask, type SubmissionGuard } from './submission.js';

/**
 * An ensemble's members as Slurm job arrays: each member's runner writes
 * its batch script as for a run of its own, then joins here instead of
 * calling sbatch. Once every member has joined (or left, its run having
 * ended before), the members are submitted with one sbatch per set of
 * resources, usually one: an array script runs task i's member script in
 * its run dir, Slurm running at most max_parallel at once (`%N`). One
 * `scontrol show job` per poll then serves every member's follower, and
 * scancels sent together go as one.
 */

/** How often the array's state is asked for, whatever the number of members. */
export const ARRAY_POLL_MS = 1000;

/** Cancels asked for within this window go to Slurm as one scancel. */
const CANCEL_WINDOW_MS = 20;

interface Joined {
  runId: string;
  config: SlurmConfig;
  job: RunJob;
  secrets: Record<string, string>;
  export: string[];
  resolve(taskId: string): void;
  reject(error: Error): void;
}

export class SlurmArray implements RunBatch {
  private readonly waiting: Set<string>;
  private readonly joined: Joined[] = [];
  private submitted = false;
  private readonly arrays: string[] = [];
  private tasks = new Map<string, JobState>();
  private polled: Promise<void> | undefined;
  /** Why the first look got no answer, until a look gets one: queries reject meanwhile, as Slurm's own would. */
  private noAnswer: { error: unknown } | undefined;
  private wake: (() => void)[] = [];
  private stopped = false;
  private poller: Promise<void> | undefined;
  private cancels: { id: string; answer: (a: CancelAnswer) => void }[] = [];
  private checked: Promise<void> | undefined;
  private clusterAnswer: Promise<string | undefined> | undefined;
  private readonly count = { sbatch: 0, queries: 0 };
  /**
   * The guardian's hold on each array's submission, kept until the batch
   * closes: should modelrun die, the whole array is cancelled, the tasks
   * whose members have not yet heard their ids among them.
   */
  private readonly submissions: SubmissionGuard[] = [];

  constructor(
    private readonly options: BatchOptions<SlurmSubmissionTask>,
    private readonly client: SlurmClient,
  ) {
    this.waiting = new Set(options.members);
    options.signal.addEventListener('abort', () => this.refuseWaiting(), { once: true });
  }

  /** How many sbatch calls and state queries the array made: for the ensemble's bench. */
  get calls(): { sbatch: number; queries: number } {
    return { ...this.count };
  }

  /** The member's view of Slurm: its submit joins the array, its queries read the array's state. */
  clientFor(config: SlurmConfig, job: RunJob): SlurmClient {
    return {
      check: async () => {
        refuseOwnLogs(config);
        this.checked ??= this.client.check();
        await this.checked;
      },
      submit: (args) => this.join(config, job, args),
      query: (id) => this.query(id),
      cancel: (id, options) => this.cancel(id, options),
      queued: async (id) => {
        const state = await this.query(id);
        return state !== undefined && !FINAL_STATES.has(state.state);
      },
      cluster: () =>
        (this.clusterAnswer ??=
          this.client.cluster?.().catch(() => undefined) ?? Promise.resolve(undefined)),
    };
  }

  /** A clock whose sleep ends early when the array's state changes: followers see an end at once. */
  readonly clock: PollClock = {
    now: () => Date.now(),
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(done, ms);
        this.wake.push(done);
        function done() {
          clearTimeout(timer);
          resolve();
        }
      }),
  };

  leave(runId: string): void {
    this.waiting.delete(runId);
    this.submitWhenAllJoined();
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.refuseWaiting();
    this.wakeAll();
    await this.poller;
    for (const submission of this.submissions.splice(0)) submission.release();
  }

  private join(config: SlurmConfig, job: RunJob, args: string[]): Promise<string> {
    if (this.options.signal.aborted || this.submitted)
      return Promise.reject(
        new RunFailedError(`the ensemble was stopped before ${job.runId} was submitted`),
      );
    return new Promise<string>((resolve, reject) => {
      this.joined.push({
        runId: job.runId,
        config,
        job,
        secrets: secretEnv(config, this.options.env),
        // --parsable and the member's own script are the array's to give.
        export: args.filter((arg) => arg.startsWith('--export')),
        resolve,
        reject,
      });
      this.waiting.delete(job.runId);
      this.submitWhenAllJoined();
    });
  }

  private submitWhenAllJoined(): void {
    if (this.submitted || this.waiting.size > 0 || this.joined.length === 0) return;
    this.submitted = true;
    void this.submitAll();
  }

  /** One sbatch per set of resources, secrets and export: what one array must share. */
  private async submitAll(): Promise<void> {
    const groups = new Map<string, Joined[]>();
    // Tasks in the ensemble's order, whatever order the members joined in.
    const order = new Map(this.options.members.map((runId, i) => [runId, i]));
    this.joined.sort((a, b) => (order.get(a.runId) ?? 0) - (order.get(b.runId) ?? 0));
    for (const member of this.joined) {
      const key = JSON.stringify([
        directiveLines(resourceDirectives(member.config)),
        optionLines(member.config),
        member.secrets,
        member.export,
      ]);
      groups.set(key, [...(groups.get(key) ?? []), member]);
    }
    const arrays = [...groups.values()];
    // Slurm throttles each array alone: max_parallel is shared out among them.
    const plan = throttlePlan(
      arrays.map((members) => members.length),
      this.options.maxParallel,
    );
    // Every array is submitted before any member hears of its task: the first
    // look at the arrays' state, which a member may ask for at once, covers them all.
    const outcomes: (() => void)[] = [];
    const ids: (string | undefined)[] = [];
    for (const [n, members] of arrays.entries()) {
      const { throttle, after } = plan[n] as ThrottleStep;
      // The last array of its lane that was submitted: one sbatch refused must not open the lane.
      let previous: string | undefined;
      for (let at = after; at !== undefined && previous === undefined; at = plan[at]?.after)
        previous = ids[at];
      try {
        const id = await this.submitGroup(members, n, throttle, previous);
        ids.push(id);
        this.arrays.push(id);
        outcomes.push(() => {
          for (const [task, member] of members.entries()) member.resolve(`${id}_${task}`);
        });
      } catch (error) {
        ids.push(undefined);
        outcomes.push(() => {
          for (const member of members) member.reject(error as Error);
        });
      }
    }
    if (this.arrays.length > 0) this.poller = this.poll();
    for (const settle of outcomes) settle();
  }

  private async submitGroup(
    members: Joined[],
    n: number,
    throttle: number,
    after: string | undefined,
  ): Promise<string> {
    const first = members[0] as Joined;
    const folder = join(this.options.dir, '.modelrun');
    await mkdir(folder, { recursive: true });
    const script = join(folder, arrayScriptName(n));
    // Slurm writes the array's log itself, following any link in its way: it
    // goes to a folder of modelrun's, where no member's model can put one.
    const logFolder = this.options.logFolder();
    const logName = (id: string) => `${this.options.id}-slurm-array-${id}.log`;
    // Slurm reads % in --output as a pattern: a % in the folder's own path is written %%.
    const log = join(literalInPattern(logFolder, logName('%A')), logName('%A'));
    await replaceFile(script, this.arrayScript(members, log), 0o700);
    this.count.sbatch++;
    const submission = guardSubmission(this.options.guard, script);
    this.submissions.push(submission);
    const id = await this.client.submit(
      [
        '--parsable',
        ...first.export,
        ...(after === undefined ? [] : [`--dependency=afterany:${after}`]),
        `--array=0-${members.length - 1}%${throttle}`,
        script,
      ],
      first.secrets,
      submission.watch,
    );
    this.options.status(
      `submitted job array ${id} (${count(members.length, 'member')}, at most ${throttle} at once${after === undefined ? '' : `, once array ${after} has ended`}); script ${script}; log ${join(logFolder, logName(id))}`,
    );
    return id;
  }

  /**
   * The array's script: the resources its members share, then, for task i,
   * member i's own batch script, run in its working dir with its output in
   * the member's log files, named by the task (`<array>_<task>`); the
   * array's own output goes to `log`, a Slurm filename pattern.
   */
  private arrayScript(members: Joined[], log: string): string {
    const first = members[0] as Joined;
    const cases = members.flatMap(({ config, job }, task) => [
      `  ${task})`,
      `    export ${ARRAY_TASK_ID_VARIABLE}="$SLURM_ARRAY_JOB_ID"_${task}`,
      `    cd ${shellQuote(config.working_dir ?? job.stagingDir)} || exit 1`,
      `    exec /bin/bash ${shellQuote(scriptPath(job.stagingDir))} >${taskLog(outputPattern(config, job))} 2>${taskLog(errorPattern(config, job))}`,
      '    ;;',
    ]);
    return [
      '#!/bin/bash',
      `# Written by modelrun ${VERSION} for ensemble ${this.options.id}: task i runs member i's own script.`,
      ...directiveLines([
        ['job-name', `modelrun-${this.options.id}`, 'ensemble_id'],
        ['output', log, "the array's log"],
        ['error', log, "the array's log"],
        ['open-mode', 'append', "the array's log"],
        ['chdir', this.options.dir, 'the ensemble folder'],
        ...resourceDirectives(first.config),
      ]),
      ...optionLines(first.config),
      '',
      'case "$SLURM_ARRAY_TASK_ID" in',
      ...cases,
      '  *)',
      '    echo "modelrun: no member for array task $SLURM_ARRAY_TASK_ID" >&2',
      '    exit 1',
      '    ;;',
      'esac',
      '',
    ].join('\n');
  }

  /** A task's state at the last look; undefined once Slurm no longer lists it (its script kept its exit status). */
  private async query(id: string): Promise<JobState | undefined> {
    await this.firstPoll();
    if (this.noAnswer !== undefined) throw this.noAnswer.error;
    return this.tasks.get(id);
  }

  private firstPoll(): Promise<void> {
    // A first look that gets no answer is not kept as the answer: queries reject until a later look of the poller's answers.
    this.polled ??= this.pollOnce().catch((error: unknown) => {
      this.noAnswer = { error };
    });
    return this.polled;
  }

  private async poll(): Promise<void> {
    await this.firstPoll();
    while (
      !this.stopped &&
      (this.noAnswer !== undefined ||
        [...this.tasks.values()].some((t) => !FINAL_STATES.has(t.state)))
    ) {
      // The clock's sleep, which close() ends: the ensemble need not wait out a poll interval to end.
      await this.clock.sleep(ARRAY_POLL_MS);
      if (this.stopped) break;
      await this.pollOnce().catch(() => undefined);
      this.wakeAll();
    }
  }

  private async pollOnce(): Promise<void> {
    const next = new Map<string, JobState>();
    for (const array of this.arrays) {
      this.count.queries++;
      // An array Slurm no longer knows has no task to list: each member reads its script's exit status.
      const shown = await this.client.showArray?.(array);
      for (const [task, state] of shown ?? []) next.set(task, state);
    }
    this.tasks = next;
    this.noAnswer = undefined;
  }

  private wakeAll(): void {
    for (const wake of this.wake.splice(0)) wake();
  }

  private cancel(id: string | readonly string[], options?: CancelOptions): Promise<CancelAnswer> {
    if (options?.onlyPending === true || typeof id !== 'string')
      return this.client.cancel(id, options);
    return new Promise((answer) => {
      this.cancels.push({ id, answer });
      if (this.cancels.length === 1) setTimeout(() => void this.sendCancels(), CANCEL_WINDOW_MS);
    });
  }

  private async sendCancels(): Promise<void> {
    const batch = this.cancels.splice(0);
    const answer = await this.client
      .cancel(batch.map((c) => c.id))
      .catch((error: Error): CancelAnswer => ({ done: false, said: error.message }));
    for (const c of batch) c.answer(answer);
  }

  private refuseWaiting(): void {
    if (this.submitted) return;
    this.submitted = true;
    for (const member of this.joined.splice(0))
      member.reject(
        new RunFailedError(`the ensemble was stopped before ${member.runId} was submitted`),
      );
  }
}

/** A member's log file as the shell names it: its pattern filled in, the task's id by the shell. */
function taskLog(pattern: string): string {
  const mark = '\0';
  const path = expandFilename(pattern, { jobId: mark, jobName: '', user: '' }) ?? pattern;
  return path
    .split(mark)
    .map((part) => shellQuote(part))
    .join(`"$${ARRAY_TASK_ID_VARIABLE}"`);
}

/**
 * A member's output goes to its own run dir, named by its task: a pattern
 * of the user's (%x, %N, %A…) would name it as no member's follower could.
 */
function refuseOwnLogs(config: SlurmConfig): void {
  const own = (['output_file', 'error_file'] as const).filter((f) => config[f] !== undefined);
  if (own.length > 0)
    throw new UsageError(`${own.join(' and ')}: ${MEMBER_LOGS}`, {
      hint: `leave ${own.join(' and ')} out of the backend config of an ensemble`,
    });
}

/** The batch for an ensemble on Slurm, through the cluster's commands. */
export async function openSlurmArray(
  options: BatchOptions<SlurmSubmissionTask>,
): Promise<SlurmArray> {
  const { slurmCliClient } = await import('./cli-client.js');
  return new SlurmArray(options, slurmCliClient(stringEnv(options.env)));
}

/** How one array is throttled: its `%N`, and the array (by its place) it waits for. */
export interface ThrottleStep {
  throttle: number;
  after?: number;
}

/**
 * Throttles for arrays of these sizes that together never run more than
 * `max` tasks at once, as Slurm throttles each array alone. Each gets 1, and
 * what is left goes one at a time to the array with the most members per
 * running task. More arrays than `max` run in `max` lanes, each array
 * waiting (afterany) for the one before it in its lane, and joining the
 * lane with the fewest members so far.
 */
export function throttlePlan(sizes: readonly number[], max: number): ThrottleStep[] {
  if (sizes.length > max) {
    // Each array joins the lane with the fewest members so far, behind its last array.
    const lanes = Array.from({ length: max }, () => ({ members: 0, last: -1 }));
    return sizes.map((size, n) => {
      const lane = lanes.reduce((least, l) => (l.members < least.members ? l : least));
      const step: ThrottleStep =
        lane.last === -1 ? { throttle: 1 } : { throttle: 1, after: lane.last };
      lane.members += size;
      lane.last = n;
      return step;
    });
  }
  const throttles = sizes.map(() => 1);
  for (let left = max - sizes.length; left > 0; left--) {
    let best = -1;
    for (const [n, size] of sizes.entries()) {
      const share = throttles[n] as number;
      if (share >= size) continue;
      if (best === -1 || size / share > (sizes[best] as number) / (throttles[best] as number))
        best = n;
    }
    if (best === -1) break;
    throttles[best] = (throttles[best] as number) + 1;
  }
  return throttles.map((throttle) => ({ throttle }));
}
