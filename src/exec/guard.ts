import type { ProcessIdentity } from './process-identity.js';

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
  /** The group's leader as the run started it: a run's handle names it so (see process-identity.ts). */
  leader?: ProcessIdentity;
}

/**
 * Hands something started to whoever undoes it should modelrun die first
 * (the guardian); the function returned withdraws it once modelrun has
 * undone it itself, and does nothing when called again.
 */
export type Guard<Task> = (task: Task) => () => void;

/** What every task handed to the guardian has: the kind that says how to undo it. */
export interface GuardTaskBase {
  kind: string;
}

/**
 * A started run's handle, as run.json keeps it: the guard task of what runs
 * the model (a process group, a container, a job), so that any modelrun
 * process can look at it and stop it by the same undo handler the guardian
 * uses. Plain data, serialisable.
 */
export type RunHandle = GuardTaskBase & Record<string, unknown>;

/** What the engine says of a run now, from its handle. */
export interface LiveState {
  /**
   * `waiting`: in a queue; `running`; `ended`; `gone`: the engine no longer
   * knows it, so how it ended is not known there; `unknown`: no answer, or
   * nothing can be told from this host.
   */
  state: 'waiting' | 'running' | 'ended' | 'gone' | 'unknown';
  /** The engine's words, for a person: "RUNNING on node1", "PENDING (Priority)", "exited 0". */
  detail: string;
  /** How the model ended, when the engine still knows. */
  exitCode?: number;
  /** The signal that ended it, when one did (SIGTERM, SIGKILL). */
  signal?: string;
  /** What the handle names is shown not to be this run's (a copied run dir, a rewritten record): it says nothing of the run. */
  notTheRuns?: true;
  /** How the run ended and when, when the engine can tell: what a run no modelrun follows is recorded with. */
  outcome?: { status: 'succeeded' | 'failed' | 'timed_out' | 'cancelled'; endedAt: Date };
}

/**
 * What any modelrun process can do with a run's handle, read back from
 * run.json: look at the run, and stop it. Loaded on demand, like undo code.
 */
export interface HandleOps<Task extends GuardTaskBase = GuardTaskBase> {
  kind: Task['kind'];
  /**
   * The handle as run.json holds it, checked field by field: undefined for
   * anything this kind could not have written (a record is a file a model
   * or a person may have changed, and a wrong pid must signal nothing).
   */
  read(value: Record<string, unknown>): Task | undefined;
  inspect(handle: Task, env: NodeJS.ProcessEnv, run: HandleOwner): Promise<LiveState>;
  /**
   * Stops the run gently, then by force, as the run itself would; resolves
   * once it has ended. It first shows that what the handle names is this
   * run's (a process carrying its mark, a container with its run id, a job
   * with its script), and touches nothing otherwise.
   */
  cancel(handle: Task, env: NodeJS.ProcessEnv, run: HandleOwner): Promise<void>;
}

/** The run a handle is read for, as its record says: what it checks the engine's answer against. */
export interface HandleOwner {
  runId: string;
  stagingDir: string;
}

/**
 * When the guardian undoes a kind of task: `stop` first (what runs), then
 * `run-record` (says so), then, only when every stop worked, `secret-file`
 * (what a job that could not be stopped may still read) and `staging-lock`
 * (what a later run into the same folder waits for). A backend's kinds are
 * `stop` or `secret-file`; the other two are the guardian's own.
 */
/**
 * In this order: what runs is stopped; an ensemble's record is ended, reading
 * its members' run.json as the members left them; the runs' records are ended;
 * then secret files are removed and locks released.
 */
export type UndoStage = 'stop' | 'ensemble-record' | 'run-record' | 'secret-file' | 'staging-lock';

export interface UndoContext {
  /** When modelrun died, in ms since the epoch: what was touched later belongs to another run. */
  diedAt: number;
  env: NodeJS.ProcessEnv;
  /** The interrupt's signal, when modelrun was forced out after one: its runs were cancelled, not lost. */
  interrupted?: string;
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
  /** What the task holds, for a person, with how to undo it by hand: "slurm job 12 (scancel 12)". */
  describe(task: Task): string;
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
  describe: (task: Task) => string,
): UndoHandler<Task> {
  return {
    kind,
    stage,
    describe,
    async undo(task, context) {
      const undo = await load();
      await undo(task, context);
    },
  };
}

/** The task kinds of a list of undo handlers. */
export type TaskOf<Handler> = Handler extends UndoHandler<infer Task> ? Task : never;

/** Process groups: the local and Apptainer backends', and a command postprocessor's. */
export const processGroupUndo = undoHandler<ProcessGroupTask>(
  'process-group',
  'stop',
  () => import('./undo-process-group.js').then((m) => m.stopAbandonedGroup),
  (task) =>
    task.pgid === undefined
      ? `the processes carrying the run's mark ${task.mark ?? '?'}`
      : `process group ${task.pgid} (kill -TERM -${task.pgid})`,
);
