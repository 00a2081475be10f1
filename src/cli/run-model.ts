import { resolve } from 'node:path';
import { Guardian } from '../guardian/client.js';
import type { BackendConfig } from '../load/backend-config.js';
import { requireOneStdin } from '../load/file-input.js';
import { runMpiWarning } from '../load/mpi-rule.js';
import {
  configFiles,
  defaultBackend,
  loadBackend,
  loadPostprocessors,
  type Placed,
  requireModel,
} from '../load/run-inputs.js';
import type { ModelConfig } from '../model/model-config.js';
import { stagingDirOf } from '../model/staging-dir.js';
import { executeRun } from '../run/execute-run.js';
import type { Interrupts } from '../run/interrupts.js';
import type { RunRequest } from '../run/pipeline.js';
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
  try {
    const result = await executeRun(request, {
      env: ctx.env,
      // Under --json, stdout carries only the run record; the model's output goes to stderr.
      terminal: json ? { stdout: ctx.terminal.stderr, stderr: ctx.terminal.stderr } : ctx.terminal,
      status: (line) => output.status(line),
      signal: interrupts.signal,
      cleanup: interrupts.cleanup,
      redactor: output.redactor,
      progress: ctx.terminal.stderr as NodeJS.WritableStream & { isTTY?: boolean },
      guardian: startGuardian(interrupts, false),
    });
    if (result.dryRun !== undefined)
      printDryRun(result.dryRun, stagingDirOf(request.model), output, json);
    else if (request.dryRun) printInterruptedDryRun(stagingDirOf(request.model), output, json);
    else printSummary(result, output, json);
    return result.exitCode;
  } finally {
    // Reached only once the pipeline has undone what it started itself.
    interrupts.active = false;
  }
}

export type { Placed } from '../load/run-inputs.js';
export {
  configFiles,
  defaultBackend,
  loadBackend,
  loadPostprocessors,
  requireModel,
  requirePlaced,
} from '../load/run-inputs.js';

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
