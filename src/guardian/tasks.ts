import type { Guard as GuardOf, ProcessGroupTask } from '../exec/guard.js';

/**
 * What the guardian undoes if modelrun dies before it could: the things a
 * run starts that would otherwise outlive it.
 */
export type GuardTask =
  | ProcessGroupTask
  /** A container: removed, or only killed when the config keeps it. */
  | { kind: 'docker-container'; id: string; engine: string; remove: boolean }
  /**
   * A Slurm job: scancel. With `containers`, the job runs a docker container,
   * which Slurm does not see: once the job has left the queue, any container
   * that still carries `label` (name=value) is removed, or only killed when kept.
   */
  | { kind: 'slurm-job'; id: string; containers?: JobContainers }
  /**
   * An env file modelrun wrote (mode 0600; it may hold secrets), by its real
   * path and identity: removed once what read it was stopped, if it is
   * still that very file.
   */
  | { kind: 'secret-file'; path: string; dev: string; ino: string }
  /** The run's run.json, still "running": marked failed, once the rest is undone. */
  | { kind: 'run-record'; path: string }
  /**
   * The staging dir's lock: released last, when everything else was undone.
   * `pid` is the modelrun that holds it, named in the lock's owner file.
   */
  | { kind: 'staging-lock'; stagingDir: string; pid?: number };

/** Where to look for the containers of a Slurm job, and what to do with them. */
export interface JobContainers {
  engine: string;
  label: string;
  remove: boolean;
}

/** One line from modelrun to its guardian. */
export type GuardMessage =
  | { op: 'add'; key: number; task: GuardTask }
  | { op: 'remove'; key: number }
  /** modelrun is ending normally: nothing is left to undo. */
  | { op: 'done' };

/** Registers a task with the guardian; the function returned withdraws it once modelrun has undone it itself. */
export type Guard = GuardOf<GuardTask>;
