import { dirname, resolve } from 'node:path';
import type * as z from 'zod';
import { diskPathContext, type PathContext } from '../config/path-context.js';

/**
 * A config schema depends only on the folder its file sits in (relative paths
 * resolve against it), so files in one folder share one built schema.
 */
export function schemaPerFolder<T>(
  factory: (ctx: PathContext) => z.ZodType<T>,
): (file: string) => z.ZodType<T> {
  const cache = new Map<string, z.ZodType<T>>();
  return (file) => {
    const dir = dirname(resolve(file));
    let schema = cache.get(dir);
    if (schema === undefined) {
      schema = factory(diskPathContext(dir));
      cache.set(dir, schema);
    }
    return schema;
  };
}
