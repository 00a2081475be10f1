import { namedType } from '../config/union.js';
import type { ModelConfig } from '../model/model-config.js';
import { postprocessorSchema, postprocessorTypes } from '../postprocess/registry.js';
import type { PostprocessorConfig } from '../postprocess/types.js';
import type { PathSegment } from '../problems.js';
import { freeFormKey, type Layering, overridesOf } from './layering.js';
import { modelSchemaKind, modelSchemaOfKind } from './model-schema.js';
import type { ParseResult } from './parse-yaml.js';
import { type Reading, readingOf } from './read-once.js';
import type { SourceResult } from './read-source.js';
import { schemaPerFolderAndKind } from './schema-cache.js';
import { type ValidationResult, validateFile, validateParsed } from './validate.js';

// Only the postprocessors a file names are built: see config/union.ts namedType.
const modelSchemaFor = schemaPerFolderAndKind(modelSchemaKind, modelSchemaOfKind);
const postprocessorSchemaFor = schemaPerFolderAndKind(
  (data) => namedType(data, postprocessorTypes) ?? '*',
  (ctx, type) => postprocessorSchema(ctx, type === '*' ? undefined : [type]),
);

/** Validates a model file; `display` is its name as the user wrote it, when `file` has been resolved. */
export function validateModelFile(
  file: string,
  env: NodeJS.ProcessEnv,
  display?: string,
  source?: SourceResult,
  layering: Layering & Reading = {},
): ValidationResult<ModelConfig> {
  return validateFile(file, modelSchemaFor(file), {
    env,
    ...(display === undefined ? {} : { display }),
    ...(source === undefined ? {} : { source }),
    ...modelLayering(file, layering),
    ...readingOf(layering),
  });
}

/** The options that layer a model: its bases, and the overrides of the model from the command line. */
export function modelLayering(file: string, { overrides = [] }: Layering, at: PathSegment[] = []) {
  return {
    path: file,
    extendable: true,
    overrides: overridesOf(overrides, 'model', at),
    freeFormKey: (data: Record<string, unknown>, path: PathSegment[]) =>
      freeFormKey(data, path, [...at, 'config']),
  };
}

export function validatePostprocessorFile(
  file: string,
  env: NodeJS.ProcessEnv,
  display?: string,
  source?: SourceResult,
  reading: Reading = {},
): ValidationResult<PostprocessorConfig> {
  return validateFile(file, postprocessorSchemaFor(file), {
    env,
    ...(display === undefined ? {} : { display }),
    ...(source === undefined ? {} : { source }),
    ...readingOf(reading),
  });
}

/** Validates a parsed model read from `file` (relative paths resolve against its folder), shown as `shown`. */
export function validateModelParsed(
  file: string,
  shown: string,
  parsed: ParseResult,
  env: NodeJS.ProcessEnv,
  layering: Layering = {},
) {
  return validateParsed(shown, parsed, modelSchemaFor(file), {
    env,
    ...modelLayering(file, layering),
  });
}

export function validatePostprocessorParsed(
  file: string,
  shown: string,
  parsed: ParseResult,
  env: NodeJS.ProcessEnv,
) {
  return validateParsed(shown, parsed, postprocessorSchemaFor(file), { env });
}
