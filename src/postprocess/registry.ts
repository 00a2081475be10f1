import * as z from 'zod';
import type { PathContext } from '../config/path-context.js';
import { unionByType } from '../config/union.js';
import { archivePostprocessor } from './archive.js';
import { checksumPostprocessor } from './checksum.js';
import { commandPostprocessor } from './command.js';
import { noopPostprocessor } from './noop.js';
import type { PostprocessorConfig, PostprocessorDefinition } from './types.js';

/** Every postprocessor type modelrun knows. A new one is one line here. */
export const postprocessorRegistry: readonly PostprocessorDefinition[] = [
  noopPostprocessor,
  archivePostprocessor,
  checksumPostprocessor,
  commandPostprocessor,
];

export const postprocessorTypes = postprocessorRegistry.map((p) => p.type);

export function findPostprocessor(type: string): PostprocessorDefinition | undefined {
  return postprocessorRegistry.find((p) => p.type === type);
}

export function postprocessorSchema(ctx: PathContext): z.ZodType<PostprocessorConfig> {
  const schemas = postprocessorRegistry.map((p) => p.configSchema(ctx));
  return unionByType(schemas, postprocessorTypes, 'postprocessor');
}

export function postprocessorListSchema(ctx: PathContext) {
  return z.array(postprocessorSchema(ctx));
}
