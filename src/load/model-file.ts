import { type ModelConfig, modelConfigSchema } from '../model/model-config.js';
import { postprocessorSchema } from '../postprocess/registry.js';
import type { PostprocessorConfig } from '../postprocess/types.js';
import { schemaPerFolder } from './schema-cache.js';
import { type ValidationResult, validateFile } from './validate.js';

const modelSchemaFor = schemaPerFolder(modelConfigSchema);
const postprocessorSchemaFor = schemaPerFolder(postprocessorSchema);

export function validateModelFile(
  file: string,
  env: NodeJS.ProcessEnv,
): ValidationResult<ModelConfig> {
  return validateFile(file, modelSchemaFor(file), { env });
}

export function validatePostprocessorFile(
  file: string,
  env: NodeJS.ProcessEnv,
): ValidationResult<PostprocessorConfig> {
  return validateFile(file, postprocessorSchemaFor(file), { env });
}
