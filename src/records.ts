/**
 * Whether a value is a mapping of names to values, as a YAML or JSON
 * mapping becomes: an object that is not an array.
 */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
