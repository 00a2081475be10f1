import { resolve } from 'node:path';
import { isKnownError, type KnownError } from '../errors.js';
import type { ModelConfig } from '../model/model-config.js';
import type { PostprocessorConfig } from '../postprocess/types.js';
import type { Problem } from '../problems.js';
import type { BackendConfig } from './backend-config.js';
import { fileInput } from './file-input.js';
import type { Layering } from './layering.js';
import { type Placer, runMpiWarning } from './mpi-rule.js';
import { type PipelineConfig, validatePipelineFile } from './pipeline-file.js';
import {
  configFiles,
  defaultBackend,
  type FileContext,
  loadBackend,
  loadPostprocessors,
  type Placed,
  requireModel,
  requirePlaced,
} from './run-inputs.js';

/**
 * Loading a run is one step: the files and flags of a command (or the
 * library's arguments) in, a validated run out, or every error found on the
 * way. A bad model and a bad backend config are both reported by one call.
 */

/** What a run is made of, validated; the command adds how to run it (dry run, postprocess…). */
export interface LoadedRun {
  model: ModelConfig;
  backend: BackendConfig;
  postprocessors: PostprocessorConfig[];
  /** The files the run was made from: a folder modelrun deletes never holds one. */
  sources: string[];
  /**
   * What was layered over and under the files: the overrides (secret values
   * masked) and the site config; `merged` when the model or the backend was
   * made of more than one layer (bases included).
   */
  layers?: { overrides: string[]; site?: string; merged: boolean };
}

export type RunLoad =
  | { run: LoadedRun; warnings: Problem[] }
  | { errors: KnownError[]; warnings: Problem[] };

/** Each part of a run, read when called; a part that cannot be read throws a ConfigError or UsageError. */
export interface RunParts {
  model: () => Pick<Placed<ModelConfig>, 'value' | 'warnings' | 'layered'>;
  /** Undefined: the local backend with its defaults. */
  backend?: () => Placed<BackendConfig>;
  /** Undefined: `otherPostprocessors`, or else the model's own list. */
  postprocessors?: () => PostprocessorConfig[];
  otherPostprocessors?: () => PostprocessorConfig[] | undefined;
  /** The file the default local backend resolves relative paths against. */
  defaultBackendFile: string;
  /** What is layered over and under the default backend. */
  layering?: Layering;
  /** How the MPI warning names the model. */
  modelName: string;
  /** Warnings found before the parts were read (a pipeline file's). */
  warnings?: Problem[];
  sources: string[];
  /** What else the backend config must be here (an ensemble's member): its error, placed. */
  backendRule?: BackendRule | undefined;
}

/** A rule a backend config must keep beyond its schema, in one use of it; undefined when kept. */
export type BackendRule = (backend: BackendConfig, place: Placer) => KnownError | undefined;

/** Reads every part, collecting every error rather than stopping at the first. */
export function collectRunRequest(parts: RunParts): RunLoad {
  const errors: KnownError[] = [];
  const attempt = <T>(read: () => T): T | undefined => {
    try {
      return read();
    } catch (error) {
      if (!isKnownError(error)) throw error;
      errors.push(error);
      return undefined;
    }
  };
  const placedModel = attempt(parts.model);
  const model = placedModel?.value;
  const backend = attempt(
    parts.backend ?? (() => defaultBackend(parts.defaultBackendFile, parts.layering)),
  );
  const warnings: Problem[] = [
    ...(parts.warnings ?? []),
    ...(placedModel?.warnings ?? []),
    ...(backend?.warnings ?? []),
  ];
  if (model !== undefined && backend !== undefined && parts.backend !== undefined) {
    const warning = runMpiWarning(model, parts.modelName, backend.value, backend.place);
    if (warning !== undefined) warnings.push(warning);
  }
  const broken =
    backend === undefined ? undefined : parts.backendRule?.(backend.value, backend.place);
  if (broken !== undefined) errors.push(broken);
  const postprocessors =
    parts.postprocessors === undefined
      ? (parts.otherPostprocessors?.() ?? model?.postprocess)
      : attempt(parts.postprocessors);
  if (
    errors.length > 0 ||
    model === undefined ||
    backend === undefined ||
    postprocessors === undefined
  )
    return { errors, warnings };
  const { overrides = [], site } = parts.layering ?? {};
  return {
    run: {
      model,
      backend: backend.value,
      postprocessors,
      sources: parts.sources,
      layers: {
        overrides: overrides.map((override) => override.arg),
        ...(site === undefined ? {} : { site: site.file }),
        merged: placedModel?.layered === true || backend.layered === true,
      },
    },
    warnings,
  };
}

/** The files a command names: a model file, or a pipeline file whose sections name the rest. */
export type RunFiles = ({ modelFile: string } | { pipelineFile: string }) & {
  /** Overrides the pipeline's backend: section. */
  backendConfig?: string;
  /** Overrides the model's (or pipeline's) postprocess list when not empty. */
  postprocessorConfigs: string[];
};

/** The parts that --backend-config and --postprocessor-config give, over a file's own. */
function flaggedParts(
  files: Pick<RunFiles, 'backendConfig' | 'postprocessorConfigs'>,
  ctx: FileContext,
): Pick<RunParts, 'backend' | 'postprocessors'> {
  return {
    ...(files.backendConfig === undefined
      ? {}
      : { backend: () => loadBackend(files.backendConfig as string, ctx) }),
    ...(files.postprocessorConfigs.length === 0
      ? {}
      : { postprocessors: () => loadPostprocessors(files.postprocessorConfigs, ctx) }),
  };
}

/** Loads a run from the files a command names. */
export function loadRunRequest(files: RunFiles, ctx: FileContext): RunLoad {
  const flagged = flaggedParts(files, ctx);
  if ('modelFile' in files)
    return collectRunRequest({
      model: () => requireModel(files.modelFile, ctx),
      ...flagged,
      defaultBackendFile: resolve(ctx.cwd, files.modelFile),
      layering: ctx,
      modelName: files.modelFile,
      sources: configFiles(ctx, files.modelFile, files.backendConfig, files.postprocessorConfigs),
    });
  return loadSections(
    files.pipelineFile,
    () => readPipeline(files.pipelineFile, ctx, files.backendConfig !== undefined),
    files,
    ctx,
  );
}

/**
 * Loads a run from a file with a pipeline's sections (a pipeline file, an
 * ensemble file), which `readFile` validates; the flags override its
 * sections.
 */
export function loadSections(
  pipelineFile: string,
  readFile: () => Placed<PipelineConfig>,
  files: Omit<RunFiles, 'modelFile' | 'pipelineFile'>,
  ctx: FileContext,
  backendRule?: BackendRule,
): RunLoad {
  const flagged = flaggedParts(files, ctx);
  let read: Placed<PipelineConfig>;
  try {
    read = readFile();
  } catch (error) {
    if (!isKnownError(error)) throw error;
    // Without its pipeline there is no model, but the files the flags name are still checked.
    return collectRunRequest({
      model: () => {
        throw error;
      },
      ...flagged,
      defaultBackendFile: resolve(ctx.cwd, pipelineFile),
      modelName: pipelineFile,
      sources: [],
    });
  }
  const { value: pipeline, place: inPipeline } = read;
  const { model, backend } = pipeline;
  return collectRunRequest({
    model: () =>
      typeof model === 'string'
        ? requireModel(model, ctx)
        : { value: model, layered: read.layered === true },
    warnings: read.warnings ?? [],
    ...(typeof backend === 'string'
      ? { backend: () => loadBackend(backend, ctx) }
      : backend === undefined
        ? {}
        : {
            backend: () => ({
              value: backend,
              layered: read.layered === true,
              place: (path, message) => inPipeline(['backend', ...path], message),
            }),
          }),
    otherPostprocessors: () => pipeline.postprocess,
    backendRule,
    ...flagged,
    defaultBackendFile: resolve(ctx.cwd, pipelineFile),
    layering: ctx,
    modelName: typeof model === 'string' ? model : `the model: section of ${pipelineFile}`,
    sources: configFiles(
      ctx,
      pipelineFile,
      typeof model === 'string' ? model : undefined,
      typeof backend === 'string' ? backend : undefined,
      files.backendConfig,
      files.postprocessorConfigs,
    ),
  });
}

function readPipeline(pipelineFile: string, ctx: FileContext, backendReplaced: boolean) {
  const input = fileInput(pipelineFile, ctx.cwd, ctx.stdin);
  return requirePlaced(
    validatePipelineFile(input.path, ctx.env, input.display, input.source, {
      ...ctx,
      backendReplaced,
    }),
    'pipeline file',
  );
}
