/**
 * YAML reads `.inf`, `-.inf` and `.nan` (and a number too large to hold,
 * such as 1e400) as numbers JSON cannot hold: a value that holds one
 * renders as `Infinity` and is recorded as null. Where modelrun records
 * the values it was given (an ensemble's members, --set), it refuses them.
 */

/** The first non-finite number in `value`, at any depth: where it is, and what it is. */
export function nonFiniteIn(
  value: unknown,
  at: (string | number)[] = [],
): { path: (string | number)[]; what: string } | undefined {
  if (typeof value === 'number')
    return Number.isFinite(value)
      ? undefined
      : {
          path: at,
          what: Number.isNaN(value)
            ? 'NaN (.nan, not a number)'
            : value > 0
              ? 'infinity (.inf, or a number too large to hold, such as 1e400)'
              : 'minus infinity (-.inf, or a number too large to hold, such as -1e400)',
        };
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, inner] of Array.isArray(value) ? value.entries() : Object.entries(value)) {
    const found = nonFiniteIn(inner, [...at, key]);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Why the value `what` (from nonFiniteIn) is refused. */
export function nonFiniteMessage(what: string): string {
  return `is ${what}, which no value can be: modelrun records values as JSON, which has no infinity or NaN`;
}

/** What to write instead. */
export const NON_FINITE_FIX = 'write a finite number, or quote the value to give it as text';
