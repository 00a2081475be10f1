import type * as z from 'zod';
import type { PathContext } from '../config/path-context.js';
import type { RunOutput } from '../exec/run-output.js';
import type { Guard } from '../guardian/tasks.js';

/** Whether a backend's engine can be used on this machine right now. */
export interface Availability {
  available: boolean;
  /** One line: the engine and its version, or why it cannot be used. */
  detail: string;
  /** What to do about it, when it is not available. */
  hint?: string;
}

export interface ProbeOptions {
  env: NodeJS.ProcessEnv;
  /** How long an engine may take to answer before it counts as unavailable. */
  timeoutMs: number;
}

/** A problem that does not make a config invalid but that the user should know about. */
export interface ConfigWarning {
  path: (string | number)[];
  message: string;
}

/** The copies of the command that a backend's MPI launcher starts, and where the config says so. */
export interface LauncherCopies {
  /** Undefined when modelrun cannot know (a count from a variable, a launcher's own default). */
  copies: number | undefined;
  /** The field the count comes from: `mpiexec`, or the job's `ntasks` it falls back to. */
  path: (string | number)[];
  /** How to run a serial or threaded model on this backend instead. */
  serial: string;
}

/** How `modelrun backends create` writes a starting config for this type. */
export interface TemplateSpec {
  /** Values that make the smallest valid config, beyond `type`. */
  required: Record<string, unknown>;
  /** Fields left commented out even with --with-examples, because they conflict with `required`. */
  alternatives?: string[];
}

/**
 * Everything modelrun knows about one backend type. A new backend is one
 * module exporting one of these, plus one line in the registry.
 */
export interface BackendDefinition {
  type: string;
  /** One line, shown by `modelrun backends list`. */
  description: string;
  /** The config schema; path fields resolve and check against `ctx`. */
  configSchema(ctx: PathContext): z.ZodType;
  /** Fields shown, in this order, in the one-line summary of a valid config. */
  summaryFields: string[];
  template: TemplateSpec;
  /**
   * Also called with the values as written when the file has errors, so it
   * must not assume the schema's shapes (a field may be missing or of
   * another type).
   */
  warnings?(config: Record<string, unknown>): ConfigWarning[];
  /**
   * What the config's MPI launcher starts. Only the run can tell whether that
   * is right, as it depends on the model file's `mpi:` (src/load/mpi-rule.ts).
   */
  launcherCopies?(config: Record<string, unknown>): LauncherCopies | undefined;
  probe(options: ProbeOptions): Promise<Availability>;
  /**
   * Prepares a run of the model on this backend. The engine's client is
   * imported here, not at the top of the module, so that commands which only
   * read configs never load it.
   */
  createRunner(
    config: Record<string, unknown>,
    job: RunJob,
    deps: RunnerDeps,
  ): Promise<BackendRunner>;
}

/** A validated backend config: its `type` plus that type's fields. */
export type BackendConfig = {
  type: string;
  /** Seconds; optional where the engine has a limit of its own (Slurm's time_limit). */
  timeout?: number;
  env_vars?: Record<string, string>;
} & Record<string, unknown>;

/** What every backend is asked to run: the same for all of them. */
export interface RunJob {
  runId: string;
  /** Absolute path of the run's staging directory. */
  stagingDir: string;
  /** The model file's command; a backend's own command or executable replaces it. */
  modelCommand: string | undefined;
}

export interface RunnerDeps {
  /** The environment modelrun itself runs in. */
  env: NodeJS.ProcessEnv;
  /** Progress and status lines for the user ("pulling image…"); never the model's output. */
  status(line: string): void;
  /** Time between the polite stop (SIGTERM) and the forced one; each backend has its default. */
  graceMs?: number;
  /** Where live progress (image pulls, builds) is drawn; redrawn in place on a terminal. */
  progress?: { write(text: string): unknown; isTTY?: boolean };
  /** Hands what the run starts to the guardian, which undoes it should modelrun die first. */
  guard?: Guard | undefined;
}

/** How the model ended, as the backend saw it. */
export interface RunOutcome {
  exitCode: number | null;
  /** The signal that killed the model, by name. */
  signal: string | null;
  /** Why it ended, when the exit code alone does not say ("killed: out of memory (limit 512m)"). */
  reason?: string;
  /** What the engine called the run, for run.json: { job_id: "12" }, { container_id: "3f2a…" }. */
  details?: Record<string, string>;
  /**
   * A time limit ended the run rather than the model (Slurm's time_limit,
   * queue_timeout): recorded as timed out. `reason` says which limit.
   */
  timedOut?: boolean;
}

/**
 * What a runner tells the run about the model's start. The run's `timeout`
 * counts from when modelrun starts the run, pulls and builds included; a
 * backend whose model may wait for resources first (a batch queue) calls
 * `waiting()` when it begins to wait, which stops that clock, and
 * `started()` when the model runs, which starts it afresh unless it runs
 * already; so a model that waits again (a requeued job) gets the whole
 * timeout once more when it runs again. A backend whose model starts when
 * asked calls neither.
 */
export interface RunHooks {
  waiting(): void;
  started(): void;
}

/** What `--dry-run` prints: exactly what would run, with secrets masked. */
export interface DryRun {
  /** Lines such as "command: /bin/sh -c 'node wave.js'"; values already masked. */
  lines: [label: string, value: string][];
  /** The same as data, for --json. */
  data: Record<string, unknown>;
}

/**
 * One run on one backend. The pipeline calls start, then run, and always
 * stop, on success, failure, timeout and interrupt.
 */
export interface BackendRunner {
  /**
   * Fails fast, with a hint, when the engine cannot be used at all: called
   * before anything is staged or created. Cheap; no image work. Aborting
   * `signal` (an interrupt) ends the check at once.
   */
  check(signal?: AbortSignal): Promise<void>;
  /**
   * Gets the engine ready (reachable, image pulled or built). Idempotent, and
   * safe to call concurrently; aborting `signal` stops a pull or build.
   */
  start(signal: AbortSignal): Promise<void>;
  /**
   * Runs the model to its end, streaming its output. Aborting `signal` stops
   * the model gracefully, then by force; run still resolves with how it ended.
   */
  run(output: RunOutput, signal: AbortSignal, hooks?: RunHooks): Promise<RunOutcome>;
  /** Removes whatever the run left behind. Idempotent; safe before, during and after run. */
  stop(): Promise<void>;
  describe(): DryRun;
  /** Resources still held, named for a person: "process group 1234", "container 3f2a…". */
  leftovers(): string[];
}
