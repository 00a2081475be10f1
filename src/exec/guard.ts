/**
 * A local or Apptainer model's process group: SIGTERM, then SIGKILL after
 * graceMs; with it the processes that left the group, found by the run's
 * marker value (`mark`) and in its cgroup folder (`cgroup`), when it has one.
 * Without `pgid`: handed over before the model starts, so that a modelrun
 * killed between the start and the group's registration still leaves
 * nothing behind; every process of the run carries the mark.
 */
export interface ProcessGroupTask {
  kind: 'process-group';
  pgid?: number;
  graceMs: number;
  mark?: string;
  cgroup?: string;
}

/**
 * Hands something started to whoever undoes it should modelrun die first
 * (the guardian); the function returned withdraws it once modelrun has
 * undone it itself.
 */
export type Guard<Task> = (task: Task) => () => void;

/** What every task handed to the guardian has: the kind that says how to undo it. */
export interface GuardTaskBase {
  kind: string;
}

/**
 * When the guardian undoes a kind of task: `stop` first (what runs), then
 * `run-record` (says so), then, only when every stop worked, `secret-file`
 * (what a job that could not be stopped may still read) and `staging-lock`
 * (what a later run into the same folder waits for). A backend's kinds are
 * `stop` or `secret-file`; the other two are the guardian's own.
 */
export type UndoStage = 'stop' | 'run-record' | 'secret-file' | 'staging-lock';

export interface UndoContext {
  /** When modelrun died, in ms since the epoch: what was touched later belongs to another run. */
  diedAt: number;
  env: NodeJS.ProcessEnv;
}

/**
 * How the guardian undoes one kind of task should modelrun die first. The
 * code that does it is loaded only when a task of this kind must be undone,
 * so that the guardian, started beside every run, loads next to nothing.
 */
export interface UndoHandler<Task extends GuardTaskBase = GuardTaskBase> {
  kind: Task['kind'];
  stage: UndoStage;
  /** Fails when the task could not be undone; only ever given tasks of `kind`. */
  undo(task: Task, context: UndoContext): Promise<void>;
}

/** True when `T` is a union of more than one type. */
type IsUnion<T, All = T> = T extends unknown ? ([All] extends [T] ? false : true) : never;

/**
 * An undo handler whose code `load` imports at the first task of `kind`.
 * One handler undoes one kind: a task type that is a union of kinds makes
 * `kind` `never`, so no handler can claim kinds it does not undo (the
 * runner's guard takes the kinds of the handlers' task types).
 */
export function undoHandler<Task extends GuardTaskBase>(
  kind: IsUnion<Task['kind']> extends true ? never : Task['kind'],
  stage: UndoStage,
  load: () => Promise<(task: Task, context: UndoContext) => Promise<void>>,
): UndoHandler<Task> {
  return {
    kind,
    stage,
    async undo(task, context) {
      const undo = await load();
      await undo(task, context);
    },
  };
}

/** The task kinds of a list of undo handlers. */
export type TaskOf<Handler> = Handler extends UndoHandler<infer Task> ? Task : never;

/** Process groups: the local and Apptainer backends', and a command postprocessor's. */
export const processGroupUndo = undoHandler<ProcessGroupTask>('process-group', 'stop', () =>
  import('./undo-process-group.js').then((m) => m.stopAbandonedGroup),
);
