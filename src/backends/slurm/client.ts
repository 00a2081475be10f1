import type { JobState } from './state.js';

/** What scancel is asked to do beyond cancelling the job. */
export interface CancelOptions {
  /**
   * Only while the job is still PENDING (`scancel --state=PENDING`), which
   * the controller decides: a job that starts in the meantime runs on.
   */
  onlyPending?: boolean;
}

/** scancel's answer: done, or what it said when it refused. */
export type CancelAnswer = { done: true } | { done: false; said: string };

/** Told of the sbatch process of a submission, once it runs. */
export interface SubmitWatch {
  started(pid: number): void;
}

/**
 * The part of Slurm that modelrun uses. The runner talks to this, not to
 * sbatch and scontrol: unit tests hand it a fake, integration tests the
 * real cluster through `slurmCliClient`.
 */
export interface SlurmClient {
  /** Fails fast when sbatch is missing or the controller does not answer. */
  check(): Promise<void>;
  /**
   * Submits a batch job with sbatch's `args` (which hold --parsable and the
   * script), with `secrets` added to sbatch's environment; resolves to the
   * job id. Rejects with sbatch's refusal and what to check (RunFailedError).
   * `watch` hears of the sbatch process as soon as it starts (see
   * submission-guard.ts).
   */
  submit(args: string[], secrets?: Record<string, string>, watch?: SubmitWatch): Promise<string>;
  /**
   * The job's state, exit code and reason; undefined once Slurm no longer
   * knows the job. Rejects when Slurm gave no answer, which says nothing of the job.
   */
  query(jobId: string): Promise<JobState | undefined>;
  /**
   * Asks Slurm to cancel the job; the job may take a while to end (query
   * says when). An id Slurm no longer knows counts as done.
   */
  cancel(jobId: string | readonly string[], options?: CancelOptions): Promise<CancelAnswer>;
  /** Whether squeue still lists the job: pending, running or completing. */
  queued(jobId: string): Promise<boolean>;
  /** The name of the cluster this host's commands reach (ClusterName), or undefined when it cannot be told. */
  cluster?(): Promise<string | undefined>;
  /**
   * Every task of a job array that Slurm still knows, by `<array>_<task>`,
   * in one query; undefined once Slurm knows none of them. Rejects when
   * Slurm gave no answer.
   */
  showArray?(arrayJobId: string): Promise<Map<string, JobState> | undefined>;
}
