import { isAbsolute, resolve } from 'node:path';
import type * as z from 'zod';
import { valueAt } from '../records.js';

/**
 * Which leaves of a config's plain data are filesystem paths, so that a
 * value written in a base file (`extends:`) can be rebased onto that file's
 * folder before it is validated in the folder of the file that extends it.
 * The schemas say so themselves: each builder that resolves a path marks
 * the schema it returns, and pathFields walks a schema and its data together.
 */

/**
 * Rewrites a value as written so that it means, from any folder, what it
 * meant in `dir`: the new value, or for a field that only moves with its
 * siblings (a Dockerfile and its build context), the keys of its mapping
 * to set.
 */
export type Rebase = (
  written: string,
  dir: string,
  siblings: Readonly<Record<string, unknown>>,
) => string | Readonly<Record<string, string>>;

export interface PathField {
  /** Where the value sits in the data, as zod spells an issue's path. */
  path: (string | number)[];
  rebase: Rebase;
}

const marks = new WeakMap<z.core.$ZodType, Rebase>();

/** A plain path as resolveConfigPath reads it: relative ones move to `dir`; `~`, `~/…` and absolute ones stay. */
export function rebasePath(written: string, dir: string): string {
  // An empty path stays empty, so that it is still refused as empty.
  if (written === '' || written === '~' || written.startsWith('~/') || isAbsolute(written))
    return written;
  return resolve(dir, written);
}

/**
 * Rebases the path fields of `data` in place: each onto the folder `dirOf`
 * gives for its path (the folder of the file that wrote it), or left alone
 * where it gives none.
 */
export function rebaseFields(
  schema: z.core.$ZodType,
  data: unknown,
  dirOf: (path: readonly (string | number)[]) => string | undefined,
): void {
  for (const { path, rebase } of pathFields(schema, data)) {
    const dir = dirOf(path);
    if (dir === undefined) continue;
    const parent = valueAt(data, path.slice(0, -1)) as Record<string | number, unknown>;
    const key = path[path.length - 1] as string | number;
    const written = parent[key];
    if (typeof written !== 'string') continue;
    const rebased = rebase(written, dir, parent);
    if (typeof rebased === 'string') parent[key] = rebased;
    else Object.assign(parent, rebased);
  }
}

/** Marks `schema` as a path field; returns it, for use around a builder's result. */
export function markPathField<T extends z.core.$ZodType>(
  schema: T,
  rebase: Rebase = rebasePath,
): T {
  marks.set(schema, rebase);
  return schema;
}

/**
 * `.meta()`, `.describe()`, `.refine()` and `.superRefine()` return a copy
 * of a schema that zod links to the original as its parent (the link its
 * registry reads metadata through), so a path field refined or documented
 * again after its builder is still found. Other wrappers (optional, pipe…)
 * hold the marked schema itself, which the walk reaches.
 */
function markOf(schema: z.core.$ZodType): Rebase | undefined {
  for (
    let node: z.core.$ZodType | undefined = schema;
    node !== undefined;
    node = node._zod.parent
  ) {
    const rebase = marks.get(node);
    if (rebase !== undefined) return rebase;
  }
  return undefined;
}

type Def = z.core.$ZodTypes['_zod']['def'];
type Segment = string | number;

// Wrappers met in a row without a step into the data; only a lazy schema
// that returns itself could make more, and it would loop forever.
const MAX_HOPS = 64;

/**
 * Every place in `data` whose value is a string that `schema` reads as a
 * path, with how to rebase it. Reads the schema as built, and the data only
 * as deep as the schema goes; data of the wrong shape finds nothing there.
 */
export function pathFields(schema: z.core.$ZodType, data: unknown): PathField[] {
  const found: PathField[] = [];
  walk(schema, data, [], found, 0);
  return found;
}

function walk(
  schema: z.core.$ZodType,
  data: unknown,
  path: Segment[],
  found: PathField[],
  hops: number,
): void {
  if (hops > MAX_HOPS) return;
  const rebase = markOf(schema);
  if (rebase !== undefined) {
    if (typeof data === 'string') found.push({ path: [...path], rebase });
    return;
  }
  const def = schema._zod.def as Def;
  switch (def.type) {
    case 'object':
      if (isMapping(data)) walkObject(def.shape, def.catchall, data, path, found);
      return;
    case 'record':
      if (isMapping(data))
        for (const key of Object.keys(data)) step(def.valueType, data[key], path, key, found);
      return;
    case 'array':
      if (Array.isArray(data))
        for (let i = 0; i < data.length; i++) step(def.element, data[i], path, i, found);
      return;
    case 'tuple':
      if (Array.isArray(data))
        for (let i = 0; i < data.length; i++) {
          const item = def.items[i] ?? def.rest;
          if (item !== undefined && item !== null) step(item, data[i], path, i, found);
        }
      return;
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'readonly':
    case 'catch':
      walk(def.innerType, data, path, found, hops + 1);
      return;
    case 'pipe':
      walk(def.in, data, path, found, hops + 1);
      return;
    case 'lazy':
      walk(def.getter(), data, path, found, hops + 1);
      return;
    case 'union':
      walkOptions(chosenOptions(def, data), data, path, found, hops);
      return;
    case 'intersection':
      walkOptions([def.left, def.right], data, path, found, hops);
      return;
    default:
      return;
  }
}

function step(
  schema: z.core.$ZodType,
  value: unknown,
  path: Segment[],
  segment: Segment,
  found: PathField[],
): void {
  path.push(segment);
  walk(schema, value, path, found, 0);
  path.pop();
}

function walkObject(
  shape: Record<string, z.core.$ZodType>,
  catchall: z.core.$ZodType | undefined,
  data: Record<string, unknown>,
  path: Segment[],
  found: PathField[],
): void {
  for (const key of Object.keys(data)) {
    const field = Object.hasOwn(shape, key) ? shape[key] : catchall;
    if (field !== undefined) step(field, data[key], path, key, found);
  }
}

/**
 * A discriminated union reads the data with the one option its
 * discriminator names, or with none. A plain union may read it with any
 * option that takes a value of its JavaScript type: a path or an inline
 * mapping is told apart by that alone.
 */
function chosenOptions(
  def: Extract<Def, { type: 'union' }>,
  data: unknown,
): readonly z.core.$ZodType[] {
  if ('discriminator' in def && typeof def.discriminator === 'string') {
    if (!isMapping(data)) return [];
    const value = data[def.discriminator];
    const option = def.options.find((o) =>
      o._zod.propValues?.[def.discriminator as string]?.has(value as z.core.util.Primitive),
    );
    return option === undefined ? [] : [option];
  }
  return def.options.filter((option) => acceptsType(option, data, 0));
}

/** Walks each option at one place, keeping the first finding of each path. */
function walkOptions(
  options: readonly z.core.$ZodType[],
  data: unknown,
  path: Segment[],
  found: PathField[],
  hops: number,
): void {
  if (options.length === 1 && options[0] !== undefined) {
    walk(options[0], data, path, found, hops + 1);
    return;
  }
  const seen = new Set<string>();
  for (const option of options) {
    const own: PathField[] = [];
    walk(option, data, path, own, hops + 1);
    for (const field of own) {
      const key = JSON.stringify(field.path);
      if (!seen.has(key)) {
        seen.add(key);
        found.push(field);
      }
    }
  }
}

/** Whether `schema` takes values of `value`'s JavaScript type, whatever else it checks. */
function acceptsType(schema: z.core.$ZodType, value: unknown, hops: number): boolean {
  if (hops > MAX_HOPS) return false;
  const def = schema._zod.def as Def;
  switch (def.type) {
    case 'string':
    case 'template_literal':
      return typeof value === 'string';
    case 'number':
    case 'nan':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
    case 'bigint':
      return typeof value === 'bigint';
    case 'null':
      return value === null;
    case 'undefined':
    case 'void':
      return value === undefined;
    case 'literal':
      return def.values.some((literal) => sameType(literal, value));
    case 'enum':
      return Object.values(def.entries).some((entry) => sameType(entry, value));
    case 'object':
    case 'record':
      return isMapping(value);
    case 'array':
    case 'tuple':
      return Array.isArray(value);
    case 'any':
    case 'unknown':
    case 'custom':
      return true;
    case 'optional':
    case 'default':
    case 'prefault':
      return value === undefined || acceptsType(def.innerType, value, hops + 1);
    case 'nullable':
      return value === null || acceptsType(def.innerType, value, hops + 1);
    case 'nonoptional':
    case 'readonly':
    case 'catch':
      return acceptsType(def.innerType, value, hops + 1);
    case 'pipe':
      return acceptsType(def.in, value, hops + 1);
    case 'lazy':
      return acceptsType(def.getter(), value, hops + 1);
    case 'union':
      return def.options.some((option) => acceptsType(option, value, hops + 1));
    case 'intersection':
      return acceptsType(def.left, value, hops + 1) && acceptsType(def.right, value, hops + 1);
    default:
      return false;
  }
}

function sameType(literal: unknown, value: unknown): boolean {
  return literal === null ? value === null : value !== null && typeof literal === typeof value;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
