import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type {
  BackendConfig,
  BackendRunner,
  DetachedPostprocess,
  DryRun,
  RunBatch,
} from '../backends/contract.js';
import { findBackend } from '../backends/registry.js';
import { ConfigError, UsageError } from '../errors.js';
import type { RunHandle } from '../exec/guard.js';
import type { Launcher } from '../exec/launcher.js';
import { identify } from '../exec/process-identity.js';
import { describeStop, type StopReason, stopExitCode } from '../exec/stop-reason.js';
import type { Guard } from '../guardian/tasks.js';
import { clearCancelRequest } from '../model/cancel-request.js';
import type { ModelConfig } from '../model/model-config.js';
import { archiveEarlierRun } from '../model/run-history.js';
import {
  endRecord,
  type MemberRecord,
  maskRecord,
  RUN_RECORD_PATH,
  type RunOwner,
  type RunRecord,
  type RunStatus,
  type StageRecord,
} from '../model/run-record.js';
import { stagingDirOf } from '../model/staging-dir.js';
import { hostFacts } from '../model/template-context.js';
import { VERSION } from '../package-info.js';
import type { PostprocessorConfig } from '../postprocess/types.js';
import { maskSecretKeys, type Redactor } from '../secrets.js';
import { watchCancelRequests } from './cancel-watch.js';
import type { Cleanup } from './cleanup.js';
import { refuseWhileEarlierRuns, unfinishedEarlierRun } from './earlier-run.js';
import { assertStaged, generate } from './generate-stage.js';
import { Holdings, handlersFor } from './holdings.js';
import { runModel, submitModel } from './model-stage.js';
import { runPostprocessors } from './postprocess-stage.js';
import { RecordWriter } from './record-writer.js';
import {
  type CleanupOutcome,
  checkStaging,
  cleanupVerdictBefore,
  deletionContext,
  openStaging,
  removeFailedRun,
  type StagingPlan,
  withStagingErrors,
} from './staging.js';

export interface RunRequest {
  model: ModelConfig;
  backend: BackendConfig;
  postprocessors: PostprocessorConfig[];
  dryRun: boolean;
  skipGenerate: boolean;
  postprocess: boolean;
  cleanupOnFailure: boolean;
  /** The files the run was made from (model file, pipeline file): modelrun never deletes a folder that holds one. */
  sources: string[];
  /** The overrides (secret values masked) and the site config that were layered over and under the files. */
  layers?: { overrides: string[]; site?: string; merged?: boolean };
  /** A member of an ensemble: what templates see as `member`, and what run.json records of it. */
  member?: { scope: Record<string, unknown>; record: MemberRecord };
}

export interface PipelineDeps {
  env: NodeJS.ProcessEnv;
  /** The home folder, which no run is staged in or above. */
  home: string;
  /** Where the model's output is echoed live. */
  terminal: {
    stdout: NodeJS.WritableStream;
    stderr: NodeJS.WritableStream;
    /** Where to say that the echo gave up on a stalled reader; default: on the other stream. */
    onGaveUp?: (notice: string) => void;
  };
  /** modelrun's own progress lines ("generated 3 files", "running on local…"). */
  status(line: string): void;
  /** Aborted on SIGINT or SIGTERM. */
  signal: AbortSignal;
  cleanup: Cleanup;
  /** Masks secret values in run.json and in what the pipeline reports. */
  redactor: Redactor;
  /** Overrides the backend's timeout; tests use it to stay under the 60 s minimum of config files. */
  timeoutMs?: number;
  /** Overrides the backend's grace between SIGTERM and SIGKILL. */
  graceMs?: number;
  /** Where live progress (image pulls) is drawn. */
  progress?: { write(text: string): unknown; isTTY?: boolean };
  /** Hands what the run starts to a guardian, which undoes it should modelrun die first. */
  guard?: Guard;
  /**
   * What runs the pipeline, for the record's owner: `cli`, which stops the
   * run and records it cancelled on SIGTERM, so `modelrun cancel` may send
   * it one; or a program using the library (the default), which may not.
   */
  owner?: RunOwner['by'];
  /**
   * `run --detach` on a backend whose engine keeps the run alone (a Slurm
   * job): the model is submitted and let go, and the pipeline returns.
   */
  detach?: boolean;
  /**
   * With detach: what postprocesses the run once it has ended (a `modelrun
   * wait` of it), for an engine that runs it itself (Slurm's
   * `postprocess_on: node`).
   */
  detachedPostprocess?: DetachedPostprocess;
  /** A member of an ensemble that its engine runs as one submission (a Slurm job array). */
  batch?: RunBatch;
  /** Starts the processes of an ensemble's members: see Launcher. */
  launcher?: Launcher;
  /** Told of each change of the run's status (queued, running) and of its handle, as run.json is. */
  observe?(change: RunChange): void;
}

/** A change in a run as its engine reports it: queued again or running, or the handle it got. */
/** `at`: when the model began running, when that was before the change was seen (ISO 8601). */
export type RunChange = { status: 'submitted' | 'running'; at?: string } | { handle: RunHandle };

/** Secrets already masked throughout, so a report prints it as it is. */
export interface PipelineResult {
  record: RunRecord;
  exitCode: number;
  stderrTail: string[];
  dryRun?: DryRun;
  /** What --cleanup-on-failure did with the staging dir of a failed run. */
  cleanup?: CleanupOutcome;
  /** Where the run dir is now, when its model moved it (or a folder above it) during the run. */
  movedTo?: string;
  /** Why the run dir's path no longer leads to its folder, when it does not. */
  displaced?: string;
}

/**
 * A model run from start to end: lock the staging directory, generate the
 * inputs, run the model on its backend, postprocess, and record each step in
 * run.json. Whatever happens, the backend is stopped, the logs are flushed
 * and the lock is released before this returns.
 */
export async function runPipeline(
  request: RunRequest,
  given: PipelineDeps,
): Promise<PipelineResult> {
  const definition = findBackend(request.backend.type);
  if (definition === undefined) throw new ConfigError(`no backend type "${request.backend.type}"`);
  const { model } = request;
  const stagingDir = stagingDirOf(model);
  // Everything the run takes is held here, and handed on to the guardian.
  const holdings = new Holdings(handlersFor(definition.undo), given.guard);
  const deps: PipelineDeps = { ...given, guard: holdings.hold };
  // Every secret the run is given, so free text (errors, stderr, summaries) cannot show it.
  deps.redactor.addSecretsOf(request.backend).addSecretsOf(request.postprocessors);
  const record = newRecord(request, stagingDir, deps.owner ?? 'library');
  const deletion = deletionContext(model, deps.home, request.sources);
  const plan = await checkStaging(request, stagingDir, deletion);
  // Taken before this run creates .modelrun/ in the folder, which would make it look staged.
  const before =
    request.cleanupOnFailure && !request.dryRun
      ? await cleanupVerdictBefore(stagingDir, deletion)
      : undefined;

  const job = { runId: model.run_id, stagingDir, modelCommand: model.command };
  const runner = await definition.createRunner(request.backend, job, {
    env: deps.env,
    status: deps.status,
    ...(deps.graceMs === undefined ? {} : { graceMs: deps.graceMs }),
    ...(deps.progress === undefined ? {} : { progress: deps.progress }),
    guard: deps.guard,
    ...(deps.batch === undefined ? {} : { batch: deps.batch }),
    ...(deps.launcher === undefined ? {} : { launcher: deps.launcher }),
  });
  if (request.dryRun)
    return dryRun(
      request,
      record,
      deps,
      await definition.plan(request.backend, job, deps.env),
      plan,
    );
  // An engine that cannot be used fails the run before anything is staged,
  // locked or created. Checked before the lock, which would create the dir.
  await runner.check(deps.signal);
  if (deps.detach === true) {
    if (runner.detach === undefined)
      throw new UsageError(
        `the ${request.backend.type} backend cannot submit a run to go on alone`,
      );
    runner.detach.check();
  }
  if (request.skipGenerate) await assertStaged(stagingDir);
  const lock = await openStaging(
    stagingDir,
    model.output_dir,
    (error) => deps.status(`warning: the staging lock was lost: ${error.message}`),
    deps.guard,
  );
  const unlock = deps.cleanup.defer(`the lock on ${stagingDir}`, () => lock.release());
  let result: PipelineResult;
  // From here, `modelrun cancel` in another process stops the run as an interrupt would.
  await clearCancelRequest(stagingDir);
  const requests = watchCancelRequests(stagingDir);
  const watched = { ...deps, signal: AbortSignal.any([deps.signal, requests.signal]) };
  try {
    result = await withStagingErrors(stagingDir, model.output_dir, () =>
      stages(request, record, watched, runner, plan, holdings),
    );
  } finally {
    requests.stop();
    await clearCancelRequest(stagingDir);
    unlock();
    await lock.release();
  }
  // A run dir a model moved, or replaced by a link, is not what its path leads to: nothing is removed.
  if (result.record.status !== 'succeeded' && before !== undefined) {
    if (result.displaced !== undefined)
      deps.status(`warning: --cleanup-on-failure removed nothing: ${result.displaced}`);
    else {
      result.cleanup = await removeFailedRun(stagingDir, deletion, before);
      if (!result.cleanup.removed)
        deps.status(
          `warning: --cleanup-on-failure kept ${stagingDir}: ${result.cleanup.why}; ${result.cleanup.hint}`,
        );
    }
  }
  return result;
}

/**
 * --dry-run: checks what a run would check and renders the template into a
 * scratch folder, removed again, so that nothing that exists is changed and
 * the staging dir is neither created nor locked.
 */
async function dryRun(
  request: RunRequest,
  record: RunRecord,
  deps: PipelineDeps,
  planned: DryRun,
  plan: StagingPlan,
): Promise<PipelineResult> {
  const scratch = await mkdtemp(join(tmpdir(), 'modelrun-dry-run-'));
  try {
    record.stages.generate = await generate(request, record.staging_dir, deps, {
      renderInto: scratch,
      keep: plan.keep,
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  if (deps.signal.aborted) {
    const stop = deps.signal.reason as StopReason;
    endRecord(record, 'cancelled');
    return {
      record: maskRecord(record, deps.redactor),
      exitCode: stopExitCode(stop),
      stderrTail: [],
    };
  }
  return {
    record: maskRecord(record, deps.redactor),
    exitCode: 0,
    stderrTail: [],
    dryRun: deps.redactor.redactData(withLayers(planned, request)),
  };
}

/**
 * The dry run's plan, and what the files were merged into when the command
 * line or the site config added to them: the overrides, the site config,
 * and the model's `config:` as the run sees it (secret-named keys masked).
 */
function withLayers(planned: DryRun, request: RunRequest): DryRun {
  const { overrides = [], site, merged = false } = request.layers ?? {};
  if (!merged && overrides.length === 0 && site === undefined) return planned;
  const config = maskSecretKeys(request.model.config);
  return {
    lines: [
      ...planned.lines,
      ...overrides.map((arg, i): [string, string] => [i === 0 ? 'overrides' : '', arg]),
      ...(site === undefined ? [] : [['site config', site] as [string, string]]),
      ['model config', JSON.stringify(config)],
    ],
    data: {
      ...planned.data,
      overrides,
      ...(site === undefined ? {} : { site_config: site }),
      model_config: config,
    },
  };
}

async function stages(
  request: RunRequest,
  record: RunRecord,
  deps: PipelineDeps,
  runner: BackendRunner,
  plan: StagingPlan,
  holdings: Holdings,
): Promise<PipelineResult> {
  const stagingDir = record.staging_dir;
  const interrupted = () => deps.signal.reason as StopReason;

  const previous = await refuseWhileEarlierRuns(stagingDir, deps.env);
  const unfinished = unfinishedEarlierRun(previous, stagingDir);
  if (unfinished !== undefined) deps.status(`warning: ${unfinished}`);
  // An earlier run's record and logs move to the history, where they are
  // neither overwritten nor counted among this run's outputs.
  const emptied = plan.empty !== undefined;
  const earlier = await archiveEarlierRun(stagingDir, !emptied);
  if (earlier !== undefined && !emptied)
    deps.status(
      `warning: ${stagingDir} holds an earlier run, whose outputs stay and mix with this one's (its run.json and logs are now in ${relative(stagingDir, earlier)}); for a clean start, give a new run_id or set delete_existing: true`,
    );
  record.stages.generate = await generate(request, stagingDir, deps, {
    empty: plan.empty,
    keep: plan.keep,
  });
  const writer = new RecordWriter(record, deps.redactor);
  try {
    if (deps.signal.aborted)
      return await finish(record, 'cancelled', interrupted(), [], deps, writer);
    await writer.write();
    const unguard = deps.guard?.({ kind: 'run-record', path: join(stagingDir, RUN_RECORD_PATH) });
    try {
      const result =
        deps.detach === true
          ? await detached(request, record, writer, deps, runner, holdings)
          : await runAndPostprocess(request, record, writer, deps, runner, holdings);
      const [movedTo, displaced] = await Promise.all([writer.movedTo(), writer.displaced()]);
      return {
        ...result,
        ...(movedTo === undefined ? {} : { movedTo }),
        ...(displaced === undefined ? {} : { displaced }),
      };
    } finally {
      unguard?.();
    }
  } finally {
    await writer.close();
  }
}

/** The run and postprocess stages, each ending in a final run record. */
async function runAndPostprocess(
  request: RunRequest,
  record: RunRecord,
  writer: RecordWriter,
  deps: PipelineDeps,
  runner: BackendRunner,
  holdings: Holdings,
): Promise<PipelineResult> {
  const { model, backend } = request;
  const stagingDir = record.staging_dir;
  const interrupted = () => deps.signal.reason as StopReason;
  let ran: Awaited<ReturnType<typeof runModel>>;
  try {
    ran = await runModel(runner, backend, record, writer, deps, holdings);
  } catch (error) {
    // modelrun's own failure (an engine that went away) still ends the run on record.
    record.reason = (error as Error).message;
    await finish(record, 'failed', undefined, [], deps, writer);
    throw error;
  }
  if (ran.status !== 'succeeded')
    return finish(record, ran.status, ran.stop, ran.stderrTail, deps, writer);

  const skipped = skippedPostprocessing(request);
  if (skipped !== undefined) {
    record.stages.postprocess = skipped;
    return finish(record, 'succeeded', undefined, ran.stderrTail, deps, writer);
  }
  // Postprocessors work by path: one that no longer leads to the run's folder
  // (a model moved it, or put a link there) would have them read and write another.
  const displaced = await writer.displaced();
  if (displaced !== undefined) {
    record.reason = `postprocessing skipped: ${displaced}`;
    record.stages.postprocess = { status: 'failed', detail: 'the run dir was displaced' };
    return finish(record, 'failed', undefined, ran.stderrTail, deps, writer);
  }
  const post = await runPostprocessors(request.postprocessors, { model, stagingDir }, deps);
  record.stages.postprocess = post.stage;
  record.postprocess = post.results;
  if (deps.signal.aborted)
    return finish(record, 'cancelled', interrupted(), ran.stderrTail, deps, writer);
  if (post.stage.status === 'failed') {
    const failed = post.results.filter((r) => r.status === 'failed').map((r) => r.type);
    record.reason = `postprocessing failed: ${failed.join(', ')}`;
    return finish(record, 'failed', undefined, ran.stderrTail, deps, writer);
  }
  return finish(record, 'succeeded', undefined, ran.stderrTail, deps, writer);
}

/** `run --detach`: the model submitted and let go, on record as submitted, with no modelrun as its owner. */
async function detached(
  request: RunRequest,
  record: RunRecord,
  writer: RecordWriter,
  deps: PipelineDeps,
  runner: BackendRunner,
  holdings: Holdings,
): Promise<PipelineResult> {
  const skipped = skippedPostprocessing(request);
  const postprocess = skipped === undefined ? deps.detachedPostprocess : undefined;
  let submitted: Awaited<ReturnType<typeof submitModel>>;
  try {
    submitted = await submitModel(runner, request.backend, record, deps, holdings, postprocess);
  } catch (error) {
    record.reason = (error as Error).message;
    record.stages.run = { ...record.stages.run, status: 'failed', detail: record.reason };
    await finish(record, 'failed', undefined, [], deps, writer);
    throw error;
  }
  if (submitted === undefined)
    return finish(record, 'cancelled', deps.signal.reason as StopReason, [], deps, writer);
  record.status = 'submitted';
  delete record.owner;
  record.detached = {
    logs: submitted.logs,
    ...(submitted.postprocess === undefined ? {} : { postprocess: submitted.postprocess }),
  };
  record.stages.postprocess = skipped ?? record.stages.postprocess;
  await writer.write();
  return { record: maskRecord(record, deps.redactor), exitCode: 0, stderrTail: [] };
}

/** The postprocess stage of a run that has none to run (none configured, or --no-postprocess); undefined when it has. */
function skippedPostprocessing(request: RunRequest): StageRecord | undefined {
  if (request.postprocess && request.postprocessors.length > 0) return undefined;
  return {
    status: 'skipped',
    detail: request.postprocess ? 'none configured' : '--no-postprocess',
  };
}

function newRecord(request: RunRequest, stagingDir: string, by: RunOwner['by']): RunRecord {
  const record: RunRecord = {
    run_id: request.model.run_id,
    status: 'running',
    exit_code: null,
    started_at: new Date().toISOString(),
    ended_at: null,
    duration_s: null,
    staging_dir: stagingDir,
    ...(request.layers === undefined || request.layers.overrides.length === 0
      ? {}
      : { overrides: request.layers.overrides }),
    ...(request.layers?.site === undefined ? {} : { site_config: request.layers.site }),
    ...(request.member === undefined
      ? {}
      : {
          member: {
            ...request.member.record,
            parameters: maskSecretKeys(request.member.record.parameters),
          },
        }),
    backend: { type: request.backend.type, config: maskSecretKeys(request.backend) },
    stages: {
      generate: { status: 'pending' },
      run: { status: 'pending' },
      postprocess: { status: 'pending' },
    },
    postprocess: [],
    modelrun_version: VERSION,
    host: hostFacts(),
  };
  const owner = identify(process.pid);
  return owner === undefined ? record : { ...record, owner: { ...owner, by } };
}

async function finish(
  record: RunRecord,
  status: RunStatus,
  stop: StopReason | undefined,
  stderrTail: string[],
  deps: PipelineDeps,
  writer: RecordWriter,
): Promise<PipelineResult> {
  endRecord(record, status);
  if (stop !== undefined) record.reason ??= describeStop(stop);
  for (const stage of Object.values(record.stages))
    if (stage.status === 'pending') stage.status = 'skipped';
  // Written even when --cleanup-on-failure is to remove the folder: the rule may keep it.
  await writer.write();
  // Its folder was removed during the run, its record with it: the run cannot count as a success.
  let ended = status;
  if (writer.lost !== undefined && ended === 'succeeded') {
    ended = 'failed';
    record.status = ended;
    record.reason ??= writer.lost;
  }
  const exitCode = ended === 'succeeded' ? 0 : stopExitCode(stop);
  return {
    record: maskRecord(record, deps.redactor),
    exitCode,
    stderrTail: stderrTail.map((line) => deps.redactor.redact(line)),
  };
}
