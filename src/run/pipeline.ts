import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { findBackend } from '../backends/registry.js';
import type { BackendRunner, DryRun } from '../backends/types.js';
import { ConfigError } from '../errors.js';
import type { Guard } from '../guardian/tasks.js';
import type { BackendConfig } from '../load/backend-config.js';
import type { ModelConfig } from '../model/model-config.js';
import {
  endRecord,
  maskRecord,
  RUN_RECORD_PATH,
  type RunRecord,
  type RunStatus,
  writeRunRecord,
} from '../model/run-record.js';
import { stagingDirOf } from '../model/staging-dir.js';
import { lockStagingDir } from '../model/staging-lock.js';
import { hostFacts } from '../model/template-context.js';
import { VERSION } from '../package-info.js';
import type { PostprocessorConfig } from '../postprocess/types.js';
import { maskSecretKeys, type Redactor } from '../secrets.js';
import type { Cleanup } from './cleanup.js';
import { assertStaged, generate } from './generate-stage.js';
import { interruptExitCode, type StopReason } from './interrupts.js';
import { runModel } from './model-stage.js';
import { runPostprocessors } from './postprocess-stage.js';

export interface RunRequest {
  model: ModelConfig;
  backend: BackendConfig;
  postprocessors: PostprocessorConfig[];
  dryRun: boolean;
  skipGenerate: boolean;
  postprocess: boolean;
  cleanupOnFailure: boolean;
}

export interface PipelineDeps {
  env: NodeJS.ProcessEnv;
  cwd: string;
  home: string;
  /** Where the model's output is echoed live. */
  terminal: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream };
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
}

/** Secrets already masked throughout, so a report prints it as it is. */
export interface PipelineResult {
  record: RunRecord;
  exitCode: number;
  stderrTail: string[];
  dryRun?: DryRun;
}

/**
 * A model run from start to end: lock the staging directory, generate the
 * inputs, run the model on its backend, postprocess, and record each step in
 * run.json. Whatever happens, the backend is stopped, the logs are flushed
 * and the lock is released before this returns.
 */
export async function runPipeline(
  request: RunRequest,
  deps: PipelineDeps,
): Promise<PipelineResult> {
  const definition = findBackend(request.backend.type);
  if (definition === undefined) throw new ConfigError(`no backend type "${request.backend.type}"`);
  const stagingDir = stagingDirOf(request.model);
  // Every secret the run is given, so free text (errors, stderr, summaries) cannot show it.
  deps.redactor.addSecretsOf(request.backend).addSecretsOf(request.postprocessors);
  const record = newRecord(request, stagingDir);

  const runner = await definition.createRunner(
    request.backend,
    { runId: request.model.run_id, stagingDir, modelCommand: request.model.command },
    {
      env: deps.env,
      status: deps.status,
      ...(deps.graceMs === undefined ? {} : { graceMs: deps.graceMs }),
      ...(deps.progress === undefined ? {} : { progress: deps.progress }),
      guard: deps.guard,
    },
  );
  // An engine that cannot be used fails the run before anything is staged,
  // locked or created. Checked before the lock, which would create the dir.
  if (!request.dryRun) await runner.check();
  if (request.skipGenerate) await assertStaged(stagingDir);
  const lock = await lockStagingDir(
    stagingDir,
    (error) => deps.status(`warning: the staging lock was lost: ${error.message}`),
    deps.guard,
  );
  const unlock = deps.cleanup.defer(`the lock on ${stagingDir}`, () => lock.release());
  let result: PipelineResult;
  try {
    result = await stages(request, record, deps, runner);
  } finally {
    unlock();
    await lock.release();
  }
  if (result.record.status !== 'succeeded' && !request.dryRun && request.cleanupOnFailure) {
    await rm(stagingDir, { recursive: true, force: true });
    deps.status(`removed ${stagingDir} (--cleanup-on-failure)`);
  }
  return result;
}

async function stages(
  request: RunRequest,
  record: RunRecord,
  deps: PipelineDeps,
  runner: BackendRunner,
): Promise<PipelineResult> {
  const stagingDir = record.staging_dir;
  const interrupted = () => deps.signal.reason as StopReason;

  record.stages.generate = await generate(request, stagingDir, deps);
  if (deps.signal.aborted) return finish(record, 'cancelled', interrupted(), [], request, deps);
  if (request.dryRun)
    return {
      record: maskRecord(record, deps.redactor),
      exitCode: 0,
      stderrTail: [],
      dryRun: deps.redactor.redactData(runner.describe()),
    };

  await writeRunRecord(stagingDir, record, deps.redactor);
  // Should modelrun die from here on, its guardian marks the run as failed on record.
  const unguard = deps.guard?.({ kind: 'run-record', path: join(stagingDir, RUN_RECORD_PATH) });
  try {
    return await runAndPostprocess(request, record, deps, runner);
  } finally {
    unguard?.();
  }
}

/** The run and postprocess stages, each ending in a final run record. */
async function runAndPostprocess(
  request: RunRequest,
  record: RunRecord,
  deps: PipelineDeps,
  runner: BackendRunner,
): Promise<PipelineResult> {
  const { model, backend } = request;
  const stagingDir = record.staging_dir;
  const interrupted = () => deps.signal.reason as StopReason;
  let ran: Awaited<ReturnType<typeof runModel>>;
  try {
    ran = await runModel(runner, backend, record, deps);
  } catch (error) {
    // modelrun's own failure (an engine that went away) still ends the run on record.
    record.reason = (error as Error).message;
    await finish(record, 'failed', undefined, [], request, deps);
    throw error;
  }
  if (ran.status !== 'succeeded')
    return finish(record, ran.status, ran.stop, ran.stderrTail, request, deps);

  if (!request.postprocess || request.postprocessors.length === 0) {
    record.stages.postprocess = {
      status: 'skipped',
      detail: request.postprocess ? 'none configured' : '--no-postprocess',
    };
    return finish(record, 'succeeded', undefined, ran.stderrTail, request, deps);
  }
  const post = await runPostprocessors(request.postprocessors, { model, stagingDir }, deps);
  record.stages.postprocess = post.stage;
  record.postprocess = post.results;
  if (deps.signal.aborted)
    return finish(record, 'cancelled', interrupted(), ran.stderrTail, request, deps);
  if (post.stage.status === 'failed') {
    const failed = post.results.filter((r) => r.status === 'failed').map((r) => r.type);
    record.reason = `postprocessing failed: ${failed.join(', ')}`;
    return finish(record, 'failed', undefined, ran.stderrTail, request, deps);
  }
  return finish(record, 'succeeded', undefined, ran.stderrTail, request, deps);
}

function newRecord(request: RunRequest, stagingDir: string): RunRecord {
  return {
    run_id: request.model.run_id,
    status: 'running',
    exit_code: null,
    started_at: new Date().toISOString(),
    ended_at: null,
    duration_s: null,
    staging_dir: stagingDir,
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
}

async function finish(
  record: RunRecord,
  status: RunStatus,
  stop: StopReason | undefined,
  stderrTail: string[],
  request: RunRequest,
  deps: PipelineDeps,
): Promise<PipelineResult> {
  endRecord(record, status);
  if (stop?.kind === 'timeout') record.reason ??= `timed out after ${stop.seconds} s`;
  if (stop?.kind === 'interrupt') record.reason ??= `cancelled by ${stop.signal}`;
  for (const stage of Object.values(record.stages))
    if (stage.status === 'pending') stage.status = 'skipped';
  if (!(status !== 'succeeded' && request.cleanupOnFailure))
    await writeRunRecord(record.staging_dir, record, deps.redactor);
  const exitCode =
    status === 'succeeded' ? 0 : stop?.kind === 'interrupt' ? interruptExitCode(stop.signal) : 1;
  return {
    record: maskRecord(record, deps.redactor),
    exitCode,
    stderrTail: stderrTail.map((line) => deps.redactor.redact(line)),
  };
}
