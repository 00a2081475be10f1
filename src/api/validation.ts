import { join, resolve } from 'node:path';
import {
  type BackendConfig,
  validateBackendFile,
  validateBackendText,
} from '../load/backend-config.js';
import { validateModelFile, validatePostprocessorFile } from '../load/model-file.js';
import { modelConfigSchema } from '../load/model-schema.js';
import {
  type PipelineConfig,
  pipelineConfigSchema,
  validatePipelineFile,
} from '../load/pipeline-file.js';
import { schemaPerFolder } from '../load/schema-cache.js';
import { type ValidationResult, validateText } from '../load/validate.js';
import type { ModelConfig } from '../model/model-config.js';
import { postprocessorSchema } from '../postprocess/registry.js';
import type { PostprocessorConfig } from '../postprocess/types.js';
import type { Problem } from '../problems.js';
import type { Environment } from './public-types.js';

/** One thing wrong with (or worth knowing about) a config, placed where it was written. */
export interface ValidationIssue {
  message: string;
  /** Dot path of the field, such as `volumes[1]` or `env_vars.OMP_NUM_THREADS`; empty for the whole file. */
  path: string;
  /** The file's name as given, or the `file` option for an object. */
  file: string;
  /** 1-based line in the file; absent for an object, which has no lines. */
  line?: number;
  /** 1-based column in the file; absent for an object. */
  column?: number;
  /** What to do about it, where modelrun knows. */
  hint?: string;
}

/** The outcome of validating a config: `value` is set exactly when `errors` is empty. */
export interface Validation<T> {
  value: T | undefined;
  errors: ValidationIssue[];
  warnings: ValidationIssue[];
}

export interface ValidateOptions {
  /** The environment `${VAR}` values are taken from. Default: process.env. */
  env?: Environment;
  /**
   * For an object: the file it stands for, whose folder relative paths
   * resolve against and whose name messages show. Default: `<cwd>/<kind>`,
   * shown as `(<kind> object)`. For a path: the name messages show.
   */
  file?: string;
}

/** A config written as a YAML or JSON file, or the same data as an object. */
export type ConfigSource = string | Record<string, unknown>;

/**
 * Values this library validated itself: runModel takes them as they are, and
 * validates any other object first (validating twice is not a no-op, as
 * values are converted on the way: durations to seconds, paths made absolute).
 * They are deep-frozen when added, so what runModel trusts is what passed
 * validation: a caller cannot swap `run_id` for `..` afterwards.
 */
const validated = new WeakSet<object>();

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
}

export function isValidated(value: object): boolean {
  return validated.has(value);
}

/** How one kind of config is read: from a file, or from text standing for a file. */
export interface ConfigReader<T> {
  /** The noun for messages: "model", "backend config". */
  kind: string;
  file(path: string, display: string, env: NodeJS.ProcessEnv): ValidationResult<T>;
  text(file: string, text: string, env: NodeJS.ProcessEnv): ValidationResult<T>;
}

/** Validates a file or an object; never throws for a bad config. */
export function validateSource<T>(
  source: ConfigSource,
  reader: ConfigReader<T>,
  options: ValidateOptions,
): Validation<T> {
  const env = options.env ?? process.env;
  if (typeof source === 'string')
    return outcome(reader.file(resolve(source), options.file ?? source, env), true);
  return validateObject(source, reader, {
    env,
    file: resolve(options.file ?? join(process.cwd(), reader.kind)),
    shown: options.file ?? `(${reader.kind} object)`,
  });
}

/**
 * Validates an object as if it were written in `file` (relative paths
 * resolve against its folder), naming it `shown` in messages.
 */
export function validateObject<T>(
  source: unknown,
  reader: ConfigReader<T>,
  where: { env: NodeJS.ProcessEnv; file: string; shown: string },
): Validation<T> {
  let text: string;
  try {
    // JSON is YAML whose strings are all quoted, so each value reads back as
    // it was given, and `${VAR}` in it is interpolated as in a file.
    text = JSON.stringify(source) ?? 'null';
  } catch (error) {
    const message = `the ${reader.kind} cannot be read as config data: ${(error as Error).message}`;
    const hint = 'give plain data: objects, arrays, strings, numbers and booleans';
    return {
      value: undefined,
      errors: [{ message, path: '', file: where.shown, hint }],
      warnings: [],
    };
  }
  const result = reader.text(where.file, text, where.env);
  return outcome(
    {
      ...result,
      errors: renamed(result.errors, where.shown),
      warnings: renamed(result.warnings, where.shown),
    },
    false,
  );
}

function renamed(problems: Problem[], file: string): Problem[] {
  return problems.map((problem) => ({ ...problem, file }));
}

function outcome<T>(result: ValidationResult<T>, positioned: boolean): Validation<T> {
  const issue = (problem: Problem): ValidationIssue => ({
    message: problem.message,
    path: problem.path,
    file: problem.file,
    ...(positioned ? { line: problem.line, column: problem.column } : {}),
  });
  const errors = result.errors.map(issue);
  if (result.status === 'missing' && errors[0] !== undefined) errors[0].hint = 'check the path';
  if (result.value !== undefined && typeof result.value === 'object' && result.value !== null) {
    deepFreeze(result.value);
    validated.add(result.value);
  }
  return { value: result.value, errors, warnings: result.warnings.map(issue) };
}

const modelSchemaFor = schemaPerFolder(modelConfigSchema);
const pipelineSchemaFor = schemaPerFolder(pipelineConfigSchema);
const postprocessorSchemaFor = schemaPerFolder(postprocessorSchema);

export const modelReader: ConfigReader<ModelConfig> = {
  kind: 'model',
  file: (path, display, env) => validateModelFile(path, env, display),
  text: (file, text, env) => validateText(file, text, modelSchemaFor(file), { env }),
};

export const backendReader: ConfigReader<BackendConfig> = {
  kind: 'backend config',
  file: (path, display, env) => validateBackendFile(path, { env, display }),
  text: (file, text, env) => validateBackendText(file, text, { env }),
};

export const pipelineReader: ConfigReader<PipelineConfig> = {
  kind: 'pipeline',
  file: (path, display, env) => validatePipelineFile(path, env, display),
  text: (file, text, env) => validateText(file, text, pipelineSchemaFor(file), { env }),
};

export const postprocessorReader: ConfigReader<PostprocessorConfig> = {
  kind: 'postprocessor config',
  file: (path, display, env) => validatePostprocessorFile(path, env, display),
  text: (file, text, env) => validateText(file, text, postprocessorSchemaFor(file), { env }),
};
