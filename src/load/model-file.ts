import { type ModelConfig, modelConfigSchema } from '../model/model-config.js';
import { postprocessorSchema } from '../postprocess/registry.js';
import type { PostprocessorConfig } from '../postprocess/types.js';
import { schemaPerFolder } from './schema-cache.js';
import { type ValidationResult, validateFile } from './validate.js';

const modelSchemaFor = schemaPerFolder(modelConfigSchema);
const postprocessorSchemaFor = schemaPerFolder(postprocessorSchema);

/** Validates a model file; `display` is its name as the user wrote it, when `file` has been resolved. */
export function validateModelFile(
  file: string,
  env: NodeJS.ProcessEnv,
  display?: string,
): ValidationResult<ModelConfig> {
  return validateFile(file, modelSchemaFor(file), {
    env,
    ...(display === undefined ? {} : { display }),
  });
}

export function validatePostprocessorFile(
  file: string,
  env: NodeJS.ProcessEnv,
  display?: string,
): ValidationResult<PostprocessorConfig> {
  return validateFile(file, postprocessorSchemaFor(file), {
    env,
    ...(display === undefined ? {} : { display }),
  });
}
