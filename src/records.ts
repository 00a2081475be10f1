/**
 * Whether a value is a mapping of names to values, as a YAML or JSON
 * mapping becomes: an object that is not an array.
 */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The value at a path of mapping keys and list indexes, as a config's data
 * holds it; undefined where the path leaves the data. Only a mapping's own
 * keys count: `constructor` is no key of `{}`.
 */
export function valueAt(value: unknown, path: readonly (string | number)[]): unknown {
  let here = value;
  for (const key of path) {
    if (Array.isArray(here)) here = typeof key === 'number' ? here[key] : undefined;
    else if (isRecord(here))
      here = Object.hasOwn(here, String(key)) ? here[String(key)] : undefined;
    else return undefined;
  }
  return here;
}
