import type * as z from 'zod';
import type { PathContext } from '../config/path-context.js';
import type { TypedSchema } from '../config/union.js';
import { EngineUnavailableError } from '../errors.js';
import type {
  Guard,
  GuardTaskBase,
  HandleOps,
  HandleOwner,
  LiveState,
  RunHandle,
  TaskOf,
  UndoHandler,
} from '../exec/guard.js';
import type { Launcher } from '../exec/launcher.js';
import type { RunOutput } from '../exec/run-output.js';

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

/** Fails, with the probe's detail and hint, when the engine cannot be used. */
export function requireAvailable(availability: Availability): void {
  if (!availability.available)
    throw new EngineUnavailableError(
      availability.detail,
      availability.hint === undefined ? {} : { hint: availability.hint },
    );
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

/** What every backend config has, whatever its type: its `type` plus that type's fields. */
export type BackendConfig = {
  type: string;
  /** Seconds; optional where the engine has a limit of its own (Slurm's time_limit). */
  timeout?: number;
  env_vars?: Record<string, string>;
} & Record<string, unknown>;

/** A config schema that can be one member of the union selected by `type`. */
export type ConfigSchema<Config extends BackendConfig = BackendConfig> = TypedSchema<Config>;

/**
 * A config as written, which may have errors: every field may be missing
 * or of another type than the schema's.
 */
export type WrittenConfig<Config> = { readonly [K in keyof Config]?: unknown };

/** What `probe` is asked: with a config, whether that config's engine can run a model now. */
export interface ProbeRequest<Config> extends ProbeOptions {
  /** Absent for `modelrun backends list`, which asks about the machine rather than a config. */
  config?: Config;
  /** Aborted on an interrupt: the probe then ends at once. */
  signal?: AbortSignal;
}

/**
 * One backend type, as its module writes it: every function gets the
 * config its own schema produces (`z.output`), inferred, with no cast.
 * `defineBackend` turns it into the `BackendDefinition` the registry holds.
 */
export interface BackendSpec<
  Schema extends ConfigSchema,
  Handlers extends readonly UndoHandler<GuardTaskBase>[],
  Handle extends TaskOf<Handlers[number]>,
> {
  type: z.output<Schema>['type'];
  /** One line, shown by `modelrun backends list`. */
  description: string;
  /** The config schema; path fields resolve and check against `ctx`. */
  configSchema(ctx: PathContext): Schema;
  /** Fields shown, in this order, in the one-line summary of a valid config. */
  summaryFields: string[];
  template: TemplateSpec;
  /**
   * Also called with the values as written when the file has errors, hence
   * the type: a field may be missing or of another type.
   */
  warnings?(config: WrittenConfig<z.output<Schema>>): ConfigWarning[];
  /**
   * What the config's MPI launcher starts. Only the run can tell whether that
   * is right, as it depends on the model file's `mpi:` (src/load/mpi-rule.ts).
   */
  launcherCopies?(config: z.output<Schema>): LauncherCopies | undefined;
  /**
   * Whether the engine can be used: for `backends list` (no config), and
   * before a run (with its config), which then fails with the detail and
   * hint. One check for both, so that their hints cannot drift apart.
   */
  probe(request: ProbeRequest<z.output<Schema>>): Promise<Availability>;
  /** What `--dry-run` prints: exactly what would run, with secrets masked. */
  plan(config: z.output<Schema>, job: RunJob, env: NodeJS.ProcessEnv): Promise<DryRun>;
  /**
   * The config's maps of variables the model is given, such as
   * `['env_vars']`: a value whose name says it is a secret (TOKEN, KEY…)
   * written into the file gets a warning to take it from the environment.
   * Masking needs no list: every secret-named key, at any depth, is masked
   * in everything modelrun prints or records (src/secrets.ts).
   */
  secretFields: readonly SecretField[];
  /** How the guardian undoes each kind of task this backend's runs hand it. */
  undo: Handlers;
  /**
   * The run's handle (one of the kinds in `undo`, reported through
   * RunHooks.submitted): how `modelrun status` and `cancel` look at a run
   * and stop it from any process.
   */
  handle: HandleOps<Handle>;
  /**
   * Prepares a run of the model on this backend. The engine's client is
   * imported here, not at the top of the module, so that commands which only
   * read configs never load it. `deps.guard` takes only the kinds in `undo`.
   */
  createRunner(
    config: z.output<Schema>,
    job: RunJob,
    deps: RunnerDeps<TaskOf<Handlers[number]>>,
  ): Promise<BackendRunner>;
  /**
   * For an engine that runs an ensemble's members as one submission and
   * throttles them itself (a Slurm job array); without it, an ensemble runs
   * its members max_parallel at a time, each submitted alone.
   */
  openBatch?(options: BatchOptions<TaskOf<Handlers[number]>>): Promise<RunBatch>;
  /**
   * Fields a member of such a batch cannot have set, each with why: an
   * ensemble's check refuses them at their place in the config.
   */
  batchRefuses?: Readonly<Record<string, string>>;
  /** How `members` members, at most `maxParallel` at once, go to the engine as a batch from the ensemble's folder `dir`: for --dry-run. */
  describeBatch?(members: number, maxParallel: number, dir: string): string;
}

/** A path in a config to a map of variables, such as `['env_vars']`. */
export type SecretField = readonly string[];

/**
 * Everything modelrun knows about one backend type, for code that handles
 * any of them (the registry, the loader, the pipeline). A new backend is one
 * module exporting one of these, made by `defineBackend`, plus one line in
 * the registry. `Task` is the guard tasks its runs emit.
 */
export interface BackendDefinition<Task extends GuardTaskBase = GuardTaskBase> {
  type: string;
  description: string;
  configSchema(ctx: PathContext): ConfigSchema;
  summaryFields: string[];
  template: TemplateSpec;
  /** The values as written, valid or not. */
  warnings(config: Record<string, unknown>): ConfigWarning[];
  /** Of a validated config; undefined for a config of another type. */
  launcherCopies(config: Record<string, unknown>): LauncherCopies | undefined;
  probe(options: ProbeOptions): Promise<Availability>;
  plan(config: BackendConfig, job: RunJob, env: NodeJS.ProcessEnv): Promise<DryRun>;
  secretFields: readonly SecretField[];
  undo: readonly UndoHandler<GuardTaskBase>[];
  handle: HandleAccess;
  createRunner(config: BackendConfig, job: RunJob, deps: RunnerDeps<Task>): Promise<BackendRunner>;
  openBatch?(options: BatchOptions<Task>): Promise<RunBatch>;
  batchRefuses?: Readonly<Record<string, string>>;
  describeBatch?(members: number, maxParallel: number, dir: string): string;
}

/** A backend's handle operations on a handle as run.json holds it, checked first. */
export interface HandleAccess {
  kind: string;
  /** Whether this backend could have written the handle: each of its fields checked. */
  readable(handle: RunHandle): boolean;
  inspect(handle: RunHandle, env: NodeJS.ProcessEnv, run: HandleOwner): Promise<LiveState>;
  /** Rejects with UnreadableHandleError for a handle this backend could not have written. */
  cancel(handle: RunHandle, env: NodeJS.ProcessEnv, run: HandleOwner): Promise<void>;
}

/** A handle in run.json that its backend could not have written: changed by hand, or by a model. */
class UnreadableHandleError extends Error {
  constructor(handle: RunHandle) {
    super(
      `run.json holds ${typeof handle === 'object' && handle !== null && typeof handle.kind === 'string' ? `a ${handle.kind} handle` : 'a handle'} that modelrun could not have written; nothing was signalled`,
    );
  }
}

/**
 * A definition that still knows its schema's type, from which the registry
 * derives the union of every backend's config.
 */
export type TypedBackend<Task extends GuardTaskBase, Schema extends ConfigSchema> = Omit<
  BackendDefinition<Task>,
  'configSchema'
> & { configSchema(ctx: PathContext): Schema };

/**
 * Makes a backend's definition from its spec. The config's type is inferred
 * from the schema; a config of another type (which the union by `type`
 * never hands over) is a bug, and says so.
 */
export function defineBackend<
  Schema extends ConfigSchema,
  const Handlers extends readonly UndoHandler<GuardTaskBase>[],
  Handle extends TaskOf<Handlers[number]>,
>(spec: BackendSpec<Schema, Handlers, Handle>): TypedBackend<TaskOf<Handlers[number]>, Schema> {
  type Config = z.output<Schema>;
  // Validated configs only: the union by `type` hands each schema's output to its own backend.
  const owns = (config: Record<string, unknown>): config is Config & Record<string, unknown> =>
    config.type === spec.type;
  const own = (config: BackendConfig): Config => {
    if (!owns(config)) throw new Error(`a ${config.type} config given to the ${spec.type} backend`);
    return config;
  };
  return {
    type: spec.type,
    description: spec.description,
    configSchema: spec.configSchema,
    summaryFields: spec.summaryFields,
    template: spec.template,
    warnings: (config) => spec.warnings?.(config) ?? [],
    launcherCopies: (config) => (owns(config) ? spec.launcherCopies?.(config) : undefined),
    probe: (options) => spec.probe(options),
    plan: async (config, job, env) => spec.plan(own(config), job, env),
    secretFields: spec.secretFields,
    undo: spec.undo,
    handle: accessHandle(spec.handle),
    createRunner: async (config, job, deps) => spec.createRunner(own(config), job, deps),
    ...(spec.openBatch === undefined ? {} : { openBatch: spec.openBatch }),
    ...(spec.batchRefuses === undefined ? {} : { batchRefuses: spec.batchRefuses }),
    ...(spec.describeBatch === undefined ? {} : { describeBatch: spec.describeBatch }),
  };
}

/** Handle operations that first check what run.json holds. */
function accessHandle<Handle extends GuardTaskBase>(ops: HandleOps<Handle>): HandleAccess {
  // A record is any JSON: a handle that is no object is no handle.
  const read = (handle: RunHandle) =>
    typeof handle === 'object' && handle !== null && handle.kind === ops.kind
      ? ops.read(handle)
      : undefined;
  return {
    kind: ops.kind,
    readable: (handle) => read(handle) !== undefined,
    async inspect(handle, env, run) {
      const known = read(handle);
      return known === undefined
        ? { state: 'unknown', detail: new UnreadableHandleError(handle).message }
        : ops.inspect(known, env, run);
    },
    async cancel(handle, env, run) {
      const known = read(handle);
      if (known === undefined) throw new UnreadableHandleError(handle);
      await ops.cancel(known, env, run);
    },
  };
}

/** What every backend is asked to run: the same for all of them. */
export interface RunJob {
  runId: string;
  /** Absolute path of the run's staging directory. */
  stagingDir: string;
  /** The model file's command; a backend's own command or executable replaces it. */
  modelCommand: string | undefined;
}

export interface RunnerDeps<Task extends GuardTaskBase = GuardTaskBase> {
  /** The environment modelrun itself runs in. */
  env: NodeJS.ProcessEnv;
  /** Progress and status lines for the user ("pulling image…"); never the model's output. */
  status(line: string): void;
  /** Time between the polite stop (SIGTERM) and the forced one; each backend has its default. */
  graceMs?: number;
  /** Where live progress (image pulls, builds) is drawn; redrawn in place on a terminal. */
  progress?: { write(text: string): unknown; isTTY?: boolean };
  /** Hands what the run starts to the guardian, which undoes it should modelrun die first. */
  guard?: Guard<Task> | undefined;
  /** The run is a member of an ensemble that the engine runs as one submission (see RunBatch). */
  batch?: RunBatch | undefined;
  /** Starts the run's processes for an ensemble, cheaper than Node's spawn (see Launcher). */
  launcher?: Launcher | undefined;
}

/**
 * An ensemble's members as one submission that the engine throttles itself
 * (a Slurm job array): each member's runner joins it through
 * RunnerDeps.batch, so the ensemble starts every member's run at once and
 * the batch submits them together once each has joined or left.
 */
export interface RunBatch {
  /** The member of this run id will not join: its run ended before it submitted. */
  leave(runId: string): void;
  /** Ends what the batch runs itself (its poller), once every member's run has ended. */
  close(): Promise<void>;
}

export interface BatchOptions<Task extends GuardTaskBase = GuardTaskBase> {
  /** The ensemble's id, and its folder, where the batch keeps its own script. */
  id: string;
  dir: string;
  /** The run ids of the members that will join or leave. */
  members: readonly string[];
  /** The most members the engine runs at once. */
  maxParallel: number;
  env: NodeJS.ProcessEnv;
  status(line: string): void;
  /** Aborted when the ensemble is stopped: members that have not been submitted never are. */
  signal: AbortSignal;
  /** Hands what the batch submits to the guardian, as RunnerDeps.guard does a run's. */
  guard?: Guard<Task> | undefined;
  /**
   * A folder of modelrun's that no model can write in (under
   * $XDG_STATE_HOME), made when first asked for, where the batch's own log
   * goes: the engine writes that log itself, through any link a member's
   * model left in the ensemble folder.
   */
  logFolder(): string;
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
  /** `at`: when the model began, where the engine knows it and it may be earlier than now. */
  started(at?: Date): void;
  /**
   * The model's process, container or job exists: its handle, which run.json
   * keeps so that `modelrun status` and `cancel` reach it from any process.
   * Called once, as soon as the engine has it, before `waiting`.
   */
  submitted(handle: RunHandle): void;
}

/** How a backend submits a run that no modelrun follows: the job is the run. */
export interface Detachable {
  /** Throws a UsageError when this config needs a modelrun that follows the run (a limit it enforces). */
  check(): void;
  /**
   * Submits the model and lets it go: resolves once the engine has it (its
   * handle given to `hooks.submitted`), after which nothing of this process
   * stops it. Undefined when stopped before anything was submitted.
   */
  submit(
    signal: AbortSignal,
    hooks: Pick<RunHooks, 'submitted'>,
    postprocess?: DetachedPostprocess,
  ): Promise<DetachedRun | undefined>;
}

/**
 * What postprocesses a detached run, for an engine that runs it itself once
 * the run has succeeded (Slurm's `postprocess_on: node`): the command (a
 * `modelrun wait` of the run), and where its output goes, outside the run
 * dir, where the model cannot put a link in its way (for Slurm, a filename
 * pattern with %j).
 */
export interface DetachedPostprocess {
  command: string[];
  log: string;
}

/**
 * Set to its own id (the `id` of its handle) in the job that runs a detached
 * run's postprocessing command: a `modelrun wait` that sees it is that job,
 * and postprocesses; any other wait leaves the postprocessing to the job.
 */
export const POSTPROCESS_JOB_VARIABLE = 'MODELRUN_POSTPROCESS_JOB';

/**
 * A run submitted to go on alone: where its engine writes the model's
 * output; and, when the config has the engine run `postprocess` (the
 * command that postprocesses the run, given to submit) once the run has
 * succeeded, what runs it and where its output goes.
 */
export interface DetachedRun {
  logs: { stdout: string; stderr: string };
  postprocess?: { handle: RunHandle; log: string };
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
  /**
   * On a backend whose engine keeps a run with no process of modelrun's
   * behind it (a Slurm job): `run --detach` submits the model and lets it go.
   */
  detach?: Detachable;
  /** Removes whatever the run left behind. Idempotent; safe before, during and after run. */
  stop(): Promise<void>;
}
