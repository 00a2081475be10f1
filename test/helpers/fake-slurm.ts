import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { slurmFailure } from '../../src/backends/slurm/cli.js';
import type { CancelAnswer, CancelOptions, SlurmClient } from '../../src/backends/slurm/client.js';
import type { PollClock } from '../../src/backends/slurm/follow.js';
import { FINAL_STATES, type JobState } from '../../src/backends/slurm/state.js';

/**
 * Time that moves only when the runner sleeps, so that a job's minutes in
 * the queue pass at once. `after` makes something happen at a moment to
 * come: a node's output that reaches the shared filesystem late.
 */
export class TestClock implements PollClock {
  time = 0;
  private timers: { at: number; run: () => void }[] = [];

  now(): number {
    return this.time;
  }

  after(ms: number, run: () => void): void {
    this.timers.push({ at: this.time + ms, run });
  }

  async sleep(ms: number): Promise<void> {
    this.time += ms;
    const due = this.timers.filter((timer) => timer.at <= this.time);
    this.timers = this.timers.filter((timer) => timer.at > this.time);
    for (const timer of due) timer.run();
    // A turn of the event loop, as a real sleep gives: the rest of the run goes on meanwhile.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** One stretch of a job's life, as the queue shows it. */
export interface FakeStep {
  /**
   * What a look at the job shows; `gone` once Slurm no longer knows the job,
   * `no answer` while the controller does not answer (query rejects, scancel fails).
   */
  state: JobState | 'gone' | 'no answer';
  /** How many looks show this state; 1 by default. The last step stays. */
  looks?: number;
  /** Appended to the job's output and error files when the job gets here. */
  stdout?: string;
  stderr?: string;
  /** Output that reaches the files `afterMs` later, as on a slow shared filesystem (needs `clock`). */
  late?: { afterMs: number; stdout?: string; stderr?: string };
}

export interface FakeSlurmOptions {
  jobId?: string;
  /** check() rejects with this: no controller there. */
  unreachable?: Error;
  /** What sbatch says as it refuses the job: submit() rejects as the real client does. */
  refusal?: string;
  /** The job's life after its submission. */
  steps?: FakeStep[];
  /** The job's output and error files, written as the steps say. */
  files?: { stdout: string; stderr: string };
  clock?: TestClock;
  /** What a plain scancel does; by default the next look shows the job CANCELLED by SIGTERM. */
  cancel?: {
    /** Looks that still show the job as it was, before the end shows. */
    looks?: number;
    /** What the looks show after those. */
    shows?: FakeStep[];
    /** scancel refuses with this message; the job runs on. */
    refused?: string;
    /** scancel cannot be run: cancel() rejects with this. */
    error?: Error;
  };
}

const CANCELLED: JobState = { state: 'CANCELLED', exitCode: 0, signal: 15 };

/** What scontrol and scancel say while the controller is too busy to answer. */
const NO_ANSWER = {
  code: 1,
  stdout: '',
  stderr: 'slurm_load_jobs error: Socket timed out on send/recv operation\n',
};

/**
 * A Slurm cluster in memory, behind our own SlurmClient interface, with one
 * job whose life is scripted look by look. It keeps every call in `calls`
 * ("submit", "query 4242", "scancel --state=PENDING 4242"), and writes the
 * job's output to real files, as a node would.
 */
export class FakeSlurm implements SlurmClient {
  readonly jobId: string;
  readonly calls: string[] = [];
  readonly submitted: { args: string[]; secrets: Record<string, string> }[] = [];
  /** The cluster's name, when a test gives the fake one (SlurmClient.cluster). */
  cluster?: () => Promise<string | undefined>;
  /** The looks to come, one state each; the last one stays. */
  private looks: FakeStep[] = [];
  private current: FakeStep | undefined;

  constructor(private readonly options: FakeSlurmOptions = {}) {
    this.jobId = options.jobId ?? '4242';
  }

  async check(): Promise<void> {
    this.calls.push('check');
    if (this.options.unreachable !== undefined) throw this.options.unreachable;
  }

  async submit(args: string[], secrets: Record<string, string> = {}): Promise<string> {
    this.calls.push('submit');
    this.submitted.push({ args, secrets });
    if (this.options.refusal !== undefined)
      throw slurmFailure('sbatch', { code: 1, stdout: '', stderr: this.options.refusal });
    this.become(this.options.steps ?? [{ state: { state: 'COMPLETED', exitCode: 0, signal: 0 } }]);
    return this.jobId;
  }

  async query(jobId: string): Promise<JobState | undefined> {
    this.calls.push(`query ${jobId}`);
    if (jobId !== this.jobId) return undefined;
    const step = this.looks.length > 1 ? this.looks.shift() : this.looks[0];
    if (step === undefined) return undefined;
    if (step !== this.current) this.reach(step);
    if (step.state === 'no answer') throw slurmFailure('scontrol', NO_ANSWER);
    return step.state === 'gone' ? undefined : step.state;
  }

  async cancel(jobId: string, options: CancelOptions = {}): Promise<CancelAnswer> {
    this.calls.push(`scancel ${options.onlyPending === true ? '--state=PENDING ' : ''}${jobId}`);
    if (this.options.cancel?.error !== undefined) throw this.options.cancel.error;
    const refused = this.options.cancel?.refused;
    if (refused !== undefined) return { done: false, said: refused };
    // Not looked at yet, the job is as its first step says.
    const still = this.current ?? this.looks[0];
    const now = still?.state;
    if (now === 'no answer') return { done: false, said: NO_ANSWER.stderr.trim() };
    if (jobId !== this.jobId || still === undefined || now === undefined || now === 'gone')
      return { done: true };
    if (FINAL_STATES.has(now.state)) return { done: true };
    if (options.onlyPending === true && now.state !== 'PENDING') return { done: true };
    const { looks = 0, shows = [{ state: CANCELLED }] } = this.options.cancel ?? {};
    this.looks = [...Array.from({ length: looks }, () => still), ...shows];
    return { done: true };
  }

  async queued(jobId: string): Promise<boolean> {
    this.calls.push(`squeue ${jobId}`);
    const now = this.current?.state;
    return (
      // As squeue's failure reads in the real client: not queued.
      jobId === this.jobId && typeof now === 'object' && !FINAL_STATES.has(now.state)
    );
  }

  /** From the next look on, the job lives these steps instead: an end the test decides. */
  become(steps: FakeStep[]): void {
    this.looks = steps.flatMap((step) => Array.from({ length: step.looks ?? 1 }, () => step));
  }

  /** How many times the job's state was looked at. */
  get queries(): number {
    return this.calls.filter((call) => call.startsWith('query')).length;
  }

  private reach(step: FakeStep): void {
    this.current = step;
    this.write(step);
    const { late } = step;
    if (late !== undefined) this.options.clock?.after(late.afterMs, () => this.write(late));
  }

  private write(output: { stdout?: string; stderr?: string }): void {
    const { files } = this.options;
    if (files === undefined) return;
    for (const [text, path] of [
      [output.stdout, files.stdout],
      [output.stderr, files.stderr],
    ] as const) {
      if (text === undefined) continue;
      mkdirSync(dirname(path), { recursive: true });
      appendFileSync(path, text);
    }
  }
}
