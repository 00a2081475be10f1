/**
 * modelrun as a library: validate configs, get their JSON Schemas, and run
 * a model on a backend. Importing it starts nothing, installs no signal or
 * exception handlers and prints nothing; no function here exits the process.
 * User mistakes come back as validation errors, or reject with the typed
 * errors below.
 */

import { checkValidateOptions } from './api/check-options.js';
import type { BackendConfig, PostprocessorConfig } from './api/public-types.js';
import {
  backendReader,
  type ConfigSource,
  modelReader,
  pipelineReader,
  postprocessorReader,
  type ValidateOptions,
  type Validation,
  validateSource,
} from './api/validation.js';
import type { PipelineConfig } from './load/pipeline-file.js';
import type { ModelConfig } from './model/model-config.js';
import { allSchemas, type JsonSchema } from './schema/json-schema.js';

export type {
  ApptainerConfig,
  ArchiveConfig,
  ChecksumConfig,
  CommandPostprocessorConfig,
  DockerConfig,
  Environment,
  LocalConfig,
  NoopConfig,
  OutputStream,
  SlurmConfig,
} from './api/public-types.js';
export type { RunEnsembleOptions } from './api/run-ensemble.js';
export type { DryRunDescription, RunModelOptions, RunResult } from './api/run-model.js';
export type {
  ConfigSource,
  ValidateOptions,
  Validation,
  ValidationIssue,
} from './api/validation.js';
// Each has `message`, `hint` (what to do) and `exitCode` (what the CLI would exit with).
export {
  ConfigError,
  EngineUnavailableError,
  isKnownError,
  RunFailedError,
  UsageError,
} from './errors.js';
export type {
  EnsembleRecord,
  EnsembleStatus,
  MemberEntry,
  MemberStatus,
} from './model/ensemble-record.js';
export type {
  PostprocessRecord,
  RunRecord,
  RunStatus,
  StageRecord,
  StageStatus,
} from './model/run-record.js';
export type { JsonSchema } from './schema/json-schema.js';
export type { BackendConfig, ModelConfig, PipelineConfig, PostprocessorConfig };

/**
 * Validates a backend config (`local`, `docker`, `apptainer` or `slurm`):
 * a YAML or JSON file's path, or the same data as an object. `${VAR}` values
 * are taken from `options.env` (default: process.env). Never throws for a
 * bad config: every problem is in `errors`, with its field path, and, for a
 * file, its line and column.
 *
 * @example
 * const { value, errors } = validateBackend('backends/docker.yml');
 * for (const e of errors) console.error(`${e.file}:${e.line}:${e.column} ${e.path}: ${e.message}`);
 */
export function validateBackend(
  source: ConfigSource,
  options: ValidateOptions = {},
): Validation<BackendConfig> {
  checkValidateOptions('validateBackend', options);
  // The schema's union, typed wide inside modelrun, narrowed once here.
  return validateSource(source, backendReader, options) as Validation<BackendConfig>;
}

/**
 * Validates a model file (or a model as an object), with the same rules as
 * `modelrun validate`. Paths in it resolve against the file's folder; for an
 * object, against the folder of `options.file` (default: the current folder).
 *
 * @example
 * const { value, errors } = validateModel({ run_id: 'demo', command: 'sh run.sh' });
 */
export function validateModel(
  source: ConfigSource,
  options: ValidateOptions = {},
): Validation<ModelConfig> {
  checkValidateOptions('validateModel', options);
  return validateSource(source, modelReader, options);
}

/**
 * Validates a pipeline file (model, backend and postprocessing in one), or
 * the same data as an object.
 *
 * @example
 * const { errors } = validatePipeline('pipeline.yml');
 */
export function validatePipeline(
  source: ConfigSource,
  options: ValidateOptions = {},
): Validation<PipelineConfig> {
  checkValidateOptions('validatePipeline', options);
  return validateSource(source, pipelineReader, options);
}

/**
 * Validates one postprocessor config (`archive`, `checksum`, `command`,
 * `noop`), as a file or an object.
 *
 * @example
 * const { value } = validatePostprocessor({ type: 'checksum' });
 */
export function validatePostprocessor(
  source: ConfigSource,
  options: ValidateOptions = {},
): Validation<PostprocessorConfig> {
  checkValidateOptions('validatePostprocessor', options);
  return validateSource(source, postprocessorReader, options) as Validation<PostprocessorConfig>;
}

/**
 * Every JSON Schema (draft 2020-12) modelrun ships, by file name, such as
 * `docker.schema.json` or `model.schema.json`: the same objects that
 * `modelrun backends schema --all` writes. Each call builds fresh copies.
 *
 * @example
 * const schema = jsonSchemas()['docker.schema.json'];
 */
export function jsonSchemas(): Record<string, JsonSchema> {
  return Object.fromEntries(allSchemas());
}

export { runEnsemble } from './api/run-ensemble.js';
export { runModel } from './api/run-model.js';
