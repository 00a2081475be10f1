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

/**
 * A schema built for the data it checks: only the members of a union by
 * type that the data names (config/union.ts namedType). `kind` says which,
 * as a string; the schema depends on the folder and the kind only, so files
 * of one kind in one folder share it.
 */
export function schemaPerFolderAndKind<T>(
  kind: (data: Record<string, unknown>) => string,
  factory: (ctx: PathContext, kind: string) => z.ZodType<T>,
): (file: string) => (data: Record<string, unknown>) => z.ZodType<T> {
  const cache = new Map<string, z.ZodType<T>>();
  return (file) => {
    const dir = dirname(resolve(file));
    return (data) => {
      const which = kind(data);
      const key = `${which}\0${dir}`;
      let schema = cache.get(key);
      if (schema === undefined) {
        schema = factory(diskPathContext(dir), which);
        cache.set(key, schema);
      }
      return schema;
    };
  };
}
