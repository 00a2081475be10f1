import * as z from 'zod';
import type { PathContext } from '../config/path-context.js';
import { namedType, unionByType } from '../config/union.js';
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

/** The union of `types` (by default every postprocessor); its messages name every known type. */
export function postprocessorSchema(
  ctx: PathContext,
  types: readonly string[] = postprocessorTypes,
): z.ZodType<PostprocessorConfig> {
  const schemas = postprocessorRegistry
    .filter((p) => types.includes(p.type))
    .map((p) => p.configSchema(ctx));
  return unionByType(schemas, postprocessorTypes, 'postprocessor');
}

export function postprocessorListSchema(ctx: PathContext, types?: readonly string[]) {
  // Entries of an empty or missing list are never checked: no member to build.
  return types?.length === 0
    ? z.array(z.never())
    : z.array(postprocessorSchema(ctx, types ?? postprocessorTypes));
}

/**
 * The postprocessor types a list as written names, for a schema of those
 * alone (see namedType); undefined when the list needs the whole union to
 * word its errors: an entry whose type is missing or unknown, or a value
 * that is not a list.
 */
export function postprocessorsNamed(list: unknown): string[] | undefined {
  if (list === undefined) return [];
  if (!Array.isArray(list)) return undefined;
  const types = new Set<string>();
  for (const entry of list) {
    const type = namedType(entry, postprocessorTypes);
    if (type === undefined) return undefined;
    types.add(type);
  }
  return [...types].sort();
}
