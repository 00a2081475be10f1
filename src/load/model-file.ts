import { type ModelConfig, modelConfigSchema } from '../model/model-config.js';
import { postprocessorSchema } from '../postprocess/registry.js';
import type { PostprocessorConfig } from '../postprocess/types.js';
import type { SourceResult } from './read-source.js';
import { schemaPerFolder } from './schema-cache.js';
import { type ValidationResult, validateFile, validateText } from './validate.js';

const modelSchemaFor = schemaPerFolder(modelConfigSchema);
const postprocessorSchemaFor = schemaPerFolder(postprocessorSchema);

/** Validates a model file; `display` is its name as the user wrote it, when `file` has been resolved. */
export function validateModelFile(
  file: string,
  env: NodeJS.ProcessEnv,
  display?: string,
  source?: SourceResult,
): ValidationResult<ModelConfig> {
  return validateFile(file, modelSchemaFor(file), {
    env,
    ...(display === undefined ? {} : { display }),
    ...(source === undefined ? {} : { source }),
  });
}

export function validatePostprocessorFile(
  file: string,
  env: NodeJS.ProcessEnv,
  display?: string,
  source?: SourceResult,
): ValidationResult<PostprocessorConfig> {
  return validateFile(file, postprocessorSchemaFor(file), {
    env,
    ...(display === undefined ? {} : { display }),
    ...(source === undefined ? {} : { source }),
  });
}

/** Validates model text read from `file` (relative paths resolve against its folder), shown as `shown`. */
export function validateModelText(
  file: string,
  shown: string,
  text: string,
  env: NodeJS.ProcessEnv,
) {
  return validateText(shown, text, modelSchemaFor(file), { env });
}

export function validatePostprocessorText(
  file: string,
  shown: string,
  text: string,
  env: NodeJS.ProcessEnv,
) {
  return validateText(shown, text, postprocessorSchemaFor(file), { env });
}
