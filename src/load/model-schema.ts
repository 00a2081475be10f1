import type { PathContext } from '../config/path-context.js';
import { modelFileSchema } from '../model/model-config.js';
import { postprocessorListSchema, postprocessorsNamed } from '../postprocess/registry.js';

/**
 * The model file's schema, with the postprocessors modelrun knows, or only
 * those of `postprocessors` (for a file that names no others).
 */
export function modelConfigSchema(ctx: PathContext, postprocessors?: readonly string[]) {
  return modelFileSchema(ctx, postprocessorListSchema(ctx, postprocessors));
}

/**
 * Which postprocessors a model file's schema needs for `data`, as a kind for
 * schemaPerFolderAndKind: the types its `postprocess:` names, or `*` for all.
 */
export function modelSchemaKind(data: Record<string, unknown>): string {
  const list = data !== null && typeof data === 'object' ? data.postprocess : undefined;
  return postprocessorsNamed(list)?.join(',') ?? '*';
}

/** The model file's schema for a kind made by modelSchemaKind. */
export function modelSchemaOfKind(ctx: PathContext, kind: string) {
  return modelConfigSchema(ctx, kind === '*' ? undefined : kind.split(',').filter(Boolean));
}
