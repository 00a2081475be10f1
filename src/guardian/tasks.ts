import type { BackendGuardTask } from '../backends/registry.js';
import type { Guard as GuardOf } from '../exec/guard.js';

/**
 * The guardian's own kinds, which every run hands it whatever its backend.
 * The run's run.json, still "running": marked failed, once the rest is undone.
 */
export interface RunRecordTask {
  kind: 'run-record';
  path: string;
}

/** An ensemble's ensemble.json, still "running": marked failed, with its unfinished members. */
export interface EnsembleRecordTask {
  kind: 'ensemble-record';
  dir: string;
}

/**
 * The staging dir's lock: released last, when everything else was undone.
 * `pid` is the modelrun that holds it, named in the lock's owner file.
 */
export interface StagingLockTask {
  kind: 'staging-lock';
  stagingDir: string;
  pid?: number;
}

/**
 * What the guardian undoes if modelrun dies before it could: the things a
 * run starts that would otherwise outlive it. A backend's kinds come from
 * its definition (`undo`), each with the code that undoes it.
 */
export type GuardTask = BackendGuardTask | CoreGuardTask;

export type CoreGuardTask = RunRecordTask | EnsembleRecordTask | StagingLockTask;

/** One line from modelrun to its guardian. */
export type GuardMessage =
  | { op: 'add'; key: number; task: GuardTask }
  | { op: 'remove'; key: number }
  /** modelrun is ending normally: nothing is left to undo. */
  | { op: 'done' }
  /**
   * modelrun is being forced out after an interrupt (a second Ctrl-C, or a
   * cleanup past its limit): what it leaves was cancelled by its user, not
   * lost, and is recorded so.
   */
  | { op: 'interrupted'; signal: string };

/** Registers a task with the guardian; the function returned withdraws it once modelrun has undone it itself. */
export type Guard = GuardOf<GuardTask>;
