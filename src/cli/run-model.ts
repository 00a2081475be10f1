import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { localBackend } from '../backends/local.js';
import { diskPathContext } from '../config/path-context.js';
import { Guardian } from '../guardian/client.js';
import { type BackendConfig, validateBackendFile } from '../load/backend-config.js';
import { validateModelFile, validatePostprocessorFile } from '../load/model-file.js';
import { type Placer, runMpiWarning } from '../load/mpi-rule.js';
import { requireValid } from '../load/require-valid.js';
import type { ValidationResult } from '../load/validate.js';
import type { ModelConfig } from '../model/model-config.js';
import { stagingDirOf } from '../model/staging-dir.js';
import type { PostprocessorConfig } from '../postprocess/types.js';
import type { Interrupts } from '../run/interrupts.js';
import { type RunRequest, runPipeline } from '../run/pipeline.js';
import { fileInput, requireOneStdin, STDIN_ARG, sourceOf } from './file-input.js';
import type { Output } from './output.js';
import { printDryRun, printInterruptedDryRun, printSummary } from './run-report.js';
import { placeOf } from './validation-report.js';

export interface RunContext {
  env: NodeJS.ProcessEnv;
  cwd: string;
  interrupts: Interrupts;
  terminal: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream };
}

export interface RunModelOptions {
  modelFile: string;
  backendConfig?: string;
  postprocessorConfigs: string[];
  dryRun: boolean;
  skipGenerate: boolean;
  postprocess: boolean;
  json: boolean;
}

/** `modelrun run`: stage, run on a backend, postprocess. Returns the exit code. */
export async function runModelCommand(
  options: RunModelOptions,
  output: Output,
  ctx: RunContext,
): Promise<number> {
  requireOneStdin(options.modelFile, options.backendConfig, options.postprocessorConfigs);
  startGuardian(ctx.interrupts, !options.dryRun);
  const model = requireModel(options.modelFile, ctx);
  const backend =
    options.backendConfig === undefined ? undefined : loadBackend(options.backendConfig, ctx);
  if (backend !== undefined) warnMpi(model, options.modelFile, backend, output);
  const postprocessors =
    options.postprocessorConfigs.length > 0
      ? loadPostprocessors(options.postprocessorConfigs, ctx)
      : model.postprocess;
  return execute(
    {
      model,
      backend: backend?.value ?? defaultBackend(resolve(ctx.cwd, options.modelFile)),
      postprocessors,
      dryRun: options.dryRun,
      skipGenerate: options.skipGenerate,
      postprocess: options.postprocess,
      cleanupOnFailure: false,
      sources: configFiles(
        ctx,
        options.modelFile,
        options.backendConfig,
        options.postprocessorConfigs,
      ),
    },
    options.json,
    output,
    ctx,
  );
}

/**
 * The command's guardian. With `early`, its process starts now, before the
 * files are even read, so that it boots on another core while modelrun
 * loads (a run that stops before it starts anything leaves it nothing to do,
 * and it exits with modelrun); otherwise at the first thing to guard.
 */
export function startGuardian(interrupts: Interrupts, early: boolean): Guardian {
  interrupts.guardian ??= new Guardian();
  if (early) interrupts.guardian.prepare();
  return interrupts.guardian;
}

export async function execute(
  request: RunRequest,
  json: boolean,
  output: Output,
  ctx: RunContext,
): Promise<number> {
  const { interrupts } = ctx;
  interrupts.active = true;
  const guardian = startGuardian(interrupts, !request.dryRun);
  try {
    const result = await runPipeline(request, {
      env: ctx.env,
      home: homedir(),
      // Under --json, stdout carries only the run record; the model's output goes to stderr.
      terminal: json ? { stdout: ctx.terminal.stderr, stderr: ctx.terminal.stderr } : ctx.terminal,
      status: (line) => output.info(output.style.dim(line)),
      signal: interrupts.signal,
      cleanup: interrupts.cleanup,
      redactor: output.redactor,
      progress: ctx.terminal.stderr as NodeJS.WritableStream & { isTTY?: boolean },
      guard: guardian.guard,
    });
    if (result.dryRun !== undefined)
      printDryRun(result.dryRun, stagingDirOf(request.model), output, json);
    else if (request.dryRun) printInterruptedDryRun(stagingDirOf(request.model), output, json);
    else printSummary(result, output, json);
    return result.exitCode;
  } finally {
    // Reached only once the pipeline has undone what it started itself.
    guardian.close();
    interrupts.active = false;
  }
}

/** The files named on the command line, absolute: a folder modelrun deletes never holds one. */
export function configFiles(
  { cwd }: { cwd: string },
  ...files: (string | string[] | undefined)[]
): string[] {
  return files
    .flat()
    .flatMap((file) => (file === undefined || file === STDIN_ARG ? [] : [resolve(cwd, file)]));
}

/** Where the command's file arguments are read from, and the environment they interpolate. */
type FileContext = { env: NodeJS.ProcessEnv; cwd: string };

/** A valid config, and where its fields were written, for checks that need another file too. */
export interface Placed<T> {
  value: T;
  place: Placer;
}

export function loadBackend(file: string, { env, cwd }: FileContext): Placed<BackendConfig> {
  const input = fileInput(file, cwd);
  return requirePlaced(
    validateBackendFile(input.path, { env, display: input.display, ...sourceOf(input) }),
    'backend config',
  );
}

export function requirePlaced<T>(result: ValidationResult<T>, what: string): Placed<T> {
  const value = requireValid(result, what);
  // A valid file was parsed, so it can always place a path.
  return { value, place: result.place as Placer };
}

/**
 * Warns, before the run starts, when the backend's mpiexec would start
 * several copies of a model that does not say it is an MPI program. A
 * warning line on stderr: it never changes the exit code.
 */
export function warnMpi(
  model: ModelConfig,
  modelFile: string,
  backend: Placed<BackendConfig>,
  output: Output,
): void {
  const warning = runMpiWarning(model, modelFile, backend.value, backend.place);
  if (warning !== undefined) output.warn(placeOf(warning));
}

/** Without --backend-config, the model runs on the local backend with its defaults. */
export function defaultBackend(modelFile: string): BackendConfig {
  const parsed = localBackend
    .configSchema(diskPathContext(dirname(resolve(modelFile))))
    .parse({ type: 'local' });
  return parsed as BackendConfig;
}

export function loadPostprocessors(
  files: string[],
  { env, cwd }: FileContext,
): PostprocessorConfig[] {
  return files.map((file) => {
    const input = fileInput(file, cwd);
    return requireValid(
      validatePostprocessorFile(input.path, env, input.display, input.source),
      'postprocessor config',
    );
  });
}

export function requireModel(file: string, { env, cwd }: FileContext): ModelConfig {
  const input = fileInput(file, cwd);
  return requireValid(
    validateModelFile(input.path, env, input.display, input.source),
    'model file',
  );
}
