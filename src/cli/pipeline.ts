import { resolve } from 'node:path';
import type { BackendConfig } from '../load/backend-config.js';
import { fileInput, requireOneStdin } from '../load/file-input.js';
import { validatePipelineFile } from '../load/pipeline-file.js';
import type { ModelConfig } from '../model/model-config.js';
import type { Output } from './output.js';
import {
  configFiles,
  defaultBackend,
  execute,
  loadBackend,
  loadPostprocessors,
  type Placed,
  type RunContext,
  requireModel,
  requirePlaced,
  startGuardian,
  warnMpi,
} from './run-model.js';

export interface PipelineOptions {
  pipelineFile: string;
  backendConfig?: string;
  postprocessorConfigs: string[];
  cleanupOnFailure: boolean;
  /** The same as run's flags of the same names. */
  dryRun: boolean;
  skipGenerate: boolean;
  postprocess: boolean;
  json: boolean;
}

/** `modelrun pipeline`: a model, its backend and its postprocessing from one file; flags override its sections. */
export async function runPipelineCommand(
  options: PipelineOptions,
  output: Output,
  ctx: RunContext,
): Promise<number> {
  requireOneStdin(options.pipelineFile, options.backendConfig, options.postprocessorConfigs);
  startGuardian(ctx.interrupts, !options.dryRun);
  const input = fileInput(options.pipelineFile, ctx.cwd);
  const { value: pipeline, place: inPipeline } = requirePlaced(
    validatePipelineFile(input.path, ctx.env, input.display, input.source),
    'pipeline file',
  );
  const model =
    typeof pipeline.model === 'string'
      ? requireModel(pipeline.model, ctx)
      : (pipeline.model as ModelConfig);
  const backend: Placed<BackendConfig> | undefined =
    options.backendConfig !== undefined
      ? loadBackend(options.backendConfig, ctx)
      : typeof pipeline.backend === 'string'
        ? loadBackend(pipeline.backend, ctx)
        : pipeline.backend === undefined
          ? undefined
          : {
              value: pipeline.backend as BackendConfig,
              place: (path, message) => inPipeline(['backend', ...path], message),
            };
  if (backend !== undefined)
    warnMpi(
      model,
      typeof pipeline.model === 'string'
        ? pipeline.model
        : `the model: section of ${options.pipelineFile}`,
      backend,
      output,
    );
  const postprocessors =
    options.postprocessorConfigs.length > 0
      ? loadPostprocessors(options.postprocessorConfigs, ctx)
      : (pipeline.postprocess ?? model.postprocess);
  return execute(
    {
      model,
      backend: backend?.value ?? defaultBackend(resolve(ctx.cwd, options.pipelineFile)),
      postprocessors,
      dryRun: options.dryRun,
      skipGenerate: options.skipGenerate,
      postprocess: options.postprocess,
      cleanupOnFailure: options.cleanupOnFailure,
      sources: configFiles(
        ctx,
        options.pipelineFile,
        typeof pipeline.model === 'string' ? pipeline.model : undefined,
        typeof pipeline.backend === 'string' ? pipeline.backend : undefined,
        options.backendConfig,
        options.postprocessorConfigs,
      ),
    },
    options.json,
    output,
    ctx,
  );
}
