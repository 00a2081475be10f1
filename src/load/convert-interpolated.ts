import type * as z from 'zod';
import type { PathSegment } from '../problems.js';

/**
 * A value filled from the environment is text, as the environment holds it.
 * Where the schema asked for a number or a boolean instead, the validator
 * reads that text strictly as one: decimal digits with an optional sign and
 * fraction, or exactly `true`/`false`. Nothing else is guessed (`0x1F`,
 * `1e3`, `yes` and ` 4` stay text, and the schema's error names them).
 */
export function convertText(text: string, expected: string): number | boolean | undefined {
  if (expected === 'boolean') {
    if (text === 'true') return true;
    if (text === 'false') return false;
    return undefined;
  }
  if ((expected === 'number' || expected === 'int') && /^-?\d+(?:\.\d+)?$/.test(text)) {
    const value = Number(text);
    return Number.isFinite(value) ? value : undefined;
  }
  return undefined;
}

/**
 * The paths where the schema expected a number or a boolean, with what it
 * expected; looks into the branches of unions, where a duration's "whole
 * seconds" or a count beside a text form is one branch.
 */
export function expectedScalars(
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PathSegment[] = [],
  found = new Map<string, { path: PathSegment[]; expected: string[] }>(),
): Map<string, { path: PathSegment[]; expected: string[] }> {
  for (const issue of issues) {
    const path = [...prefix, ...issue.path.filter((s): s is PathSegment => typeof s !== 'symbol')];
    if (issue.code === 'invalid_type' && ['number', 'int', 'boolean'].includes(issue.expected)) {
      const key = JSON.stringify(path);
      const entry = found.get(key) ?? { path, expected: [] };
      entry.expected.push(issue.expected);
      found.set(key, entry);
    } else if (issue.code === 'invalid_union') {
      for (const branch of issue.errors) expectedScalars(branch, path, found);
    }
  }
  return found;
}

/**
 * Converts, in place in `data`, the interpolated values that the schema
 * wanted as numbers or booleans; returns how many it converted.
 */
export function convertInterpolated(
  data: unknown,
  issues: readonly z.core.$ZodIssue[],
  interpolated: ReadonlyMap<string, string>,
): number {
  let converted = 0;
  for (const [key, { path, expected }] of expectedScalars(issues)) {
    if (!interpolated.has(key)) continue;
    const parent = valueAt(data, path.slice(0, -1));
    const last = path[path.length - 1];
    if (parent === null || typeof parent !== 'object' || last === undefined) continue;
    const record = parent as Record<PathSegment, unknown>;
    const text = record[last];
    if (typeof text !== 'string') continue;
    for (const type of expected) {
      const value = convertText(text, type);
      if (value !== undefined) {
        record[last] = value;
        converted++;
        break;
      }
    }
  }
  return converted;
}

function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let node = data;
  for (const segment of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PathSegment, unknown>)[segment];
  }
  return node;
}
