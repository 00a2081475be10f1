import type { PathContext } from '../config/path-context.js';
import { modelFileSchema } from '../model/model-config.js';
import { postprocessorListSchema } from '../postprocess/registry.js';

/** The model file's schema, with the postprocessors modelrun knows. */
export function modelConfigSchema(ctx: PathContext) {
  return modelFileSchema(ctx, postprocessorListSchema(ctx));
}
