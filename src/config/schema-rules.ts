/**
 * Rules between fields, as JSON Schema for editors; zod checks them in each
 * schema's superRefine. Each is written so that yaml-language-server marks
 * the offending key with modelrun's own message: a `false` property schema is
 * reported on its key, with the `errorMessage` of the schema around it,
 * where a `not` or a `oneOf` would mark the whole mapping with a generic
 * message.
 */
export type SchemaRule = Record<string, unknown>;

/**
 * `required: [key]` with the key declared beside it: the same test, and
 * ajv's strict mode (strictRequired) refuses a required key that the
 * schema around it does not declare.
 */
function has(key: string): SchemaRule {
  return { properties: { [key]: true }, required: [key] };
}

/** With `key` given, `other` may not be; the editor marks `other`. */
export function notBoth(key: string, other: string, message: string): SchemaRule {
  return { dependentSchemas: { [key]: { properties: { [other]: false }, errorMessage: message } } };
}

/** `key` only together with `other`; the editor marks `key` when `other` is missing. */
export function onlyWith(key: string, other: string, message: string): SchemaRule {
  return {
    if: { not: has(other) },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword, never awaited
    then: { properties: { [key]: false }, errorMessage: message },
  };
}

/** At least one of `keys`; the editor marks the mapping, where modelrun reports it. */
export function oneOf(keys: readonly string[], message: string): SchemaRule {
  const [first = ''] = keys;
  return {
    if: { not: { anyOf: keys.map(has) } },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword, never awaited
    then: { ...has(first), errorMessage: message },
  };
}

/** Several rules on one object. */
export function schemaRules(...rules: SchemaRule[]): { allOf: SchemaRule[] } {
  return { allOf: rules };
}
