import { MAX_DEFAULT_NESTING } from './interpolate.js';

/*
 * The text interpolate.ts fills from the environment, as one regular
 * expression, so that a JSON Schema can accept `${...}` wherever modelrun
 * does. It reads the text as interpolateString scans it, left to right:
 * `$${` is a literal "${", a `$` before anything else is a plain dollar, and
 * `${` opens a reference that must be a variable name, closed by `}` or
 * followed by `:-` and a default. A default is only expanded when it is used,
 * so its inside is checked as closingBrace reads it (balanced `${`/`$${`
 * against `}`), not as references.
 */

/** A `$` that starts neither "$${" nor "${". */
const PLAIN_DOLLAR = '\\$(?!\\$?\\{)';
const NAME = '[A-Za-z_][A-Za-z0-9_]*';

/** The inside of a default, with `${...}` and `$${...}` nested up to `depth` levels. */
function defaultText(depth: number): string {
  const flat = `[^$}]|${PLAIN_DOLLAR}`;
  if (depth === 0) return `(?:${flat})*`;
  return `(?:${flat}|\\$\\$?\\{${defaultText(depth - 1)}\\})*`;
}

const REFERENCE = `\\$\\{${NAME}(?::-${defaultText(MAX_DEFAULT_NESTING)})?\\}`;
/** Text outside references: anything but a `$` that starts one. */
const LITERAL = `(?:[^$]|\\$\\$\\{|${PLAIN_DOLLAR})*`;

/**
 * Matches text that holds at least one well-formed `${NAME}` or
 * `${NAME:-default}` and nothing that interpolation would refuse (an
 * unclosed "${", a reference that is not a name). Whether the variable is set,
 * and whether its value suits the field, only the environment can say.
 */
export const INTERPOLATION_PATTERN = `^${LITERAL}(?:${REFERENCE}${LITERAL})+$`;
