import { INTERPOLATION_PATTERN } from '../load/interpolation-pattern.js';
import type { JsonSchema } from './json-schema.js';

export const INTERPOLATION_DEF = 'interpolation';

/** The alternative every checked scalar field gets: text that modelrun fills from the environment. */
export const INTERPOLATION_SCHEMA: JsonSchema = {
  type: 'string',
  pattern: INTERPOLATION_PATTERN,
  patternErrorMessage:
    'must be a ${NAME} or ${NAME:-default} reference, with $${ for a literal "${"',
  description:
    'A value taken from the environment when modelrun reads the file: ${NAME}, or ${NAME:-default} when NAME is unset or empty.',
};

export const INTERPOLATION_REF = `#/$defs/${INTERPOLATION_DEF}`;
const REFERENCE = { $ref: INTERPOLATION_REF };

/** Keywords that say what a value may be; a plain string of any length passes none of them by itself. */
const CONSTRAINTS = ['enum', 'const', 'pattern', 'format', 'not', 'minimum', 'maximum'];
const NON_TEXT_TYPES = new Set(['number', 'integer', 'boolean', 'null']);
/** What stays on the field itself, for hover and completion. */
const ANNOTATIONS = new Set(['title', 'description', 'default', 'examples', 'deprecated']);

/**
 * modelrun fills `${VAR}` in every string value before it validates, and
 * reads the result as the number or boolean a field wants. Gives every field
 * whose type or constraints would refuse such text the interpolation form as
 * an alternative, so that editors accept what modelrun accepts. The `type` of
 * a backend or postprocessor stays as written: it selects the fields.
 */
export function acceptInterpolation(root: JsonSchema): JsonSchema {
  const result = walk(root, false) as JsonSchema;
  const defs = (result.$defs ?? {}) as Record<string, JsonSchema>;
  return { ...result, $defs: { ...defs, [INTERPOLATION_DEF]: INTERPOLATION_SCHEMA } };
}

function walk(node: unknown, isValue: boolean): unknown {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return node;
  const schema = node as JsonSchema;
  const out: JsonSchema = {};
  for (const [key, child] of Object.entries(schema)) out[key] = walkKeyword(key, child);
  return isValue && refusesText(schema) ? withAlternative(out) : out;
}

function walkKeyword(key: string, child: unknown): unknown {
  switch (key) {
    case 'properties':
      return mapValues(child, (value, name) =>
        name === 'type' && isConst(value) ? value : walk(value, true),
      );
    case '$defs':
    case 'patternProperties':
      return mapValues(child, (value) => walk(value, true));
    case 'additionalProperties':
    case 'items':
      return walk(child, true);
    case 'prefixItems':
      return Array.isArray(child) ? child.map((c) => walk(c, true)) : child;
    case 'anyOf':
    case 'oneOf':
    case 'allOf':
      // Branches are walked for what they hold; a scalar union gets one alternative, on itself.
      return Array.isArray(child) ? child.map((c) => walk(c, false)) : child;
    default:
      // propertyNames (keys are never interpolated), if/then, dependentSchemas, ...
      return child;
  }
}

function mapValues(
  value: unknown,
  f: (child: unknown, name: string) => unknown,
): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries((value ?? {}) as Record<string, unknown>).map(([k, v]) => [k, f(v, k)]),
  );
}

function isConst(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'const' in value;
}

/** Whether a `${...}` written as this value would fail the schema. */
function refusesText(schema: JsonSchema): boolean {
  const types = schema.type === undefined ? [] : [schema.type].flat();
  if (types.includes('object') || types.includes('array')) return false;
  if (types.length > 0 && types.every((t) => NON_TEXT_TYPES.has(String(t)))) return true;
  if (CONSTRAINTS.some((k) => k in schema)) return true;
  if (Array.isArray(schema.allOf) && schema.allOf.some((s) => refusesText(s as JsonSchema)))
    return true;
  const branches = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (!Array.isArray(branches)) return false;
  const scalars = branches.filter((s) => {
    const t = [s.type ?? []].flat();
    return !t.includes('object') && !t.includes('array') && s.properties === undefined;
  });
  return scalars.length > 0 && scalars.every(refusesText);
}

function withAlternative(schema: JsonSchema): JsonSchema {
  const annotations: JsonSchema = {};
  const value: JsonSchema = {};
  for (const [key, child] of Object.entries(schema))
    (ANNOTATIONS.has(key) ? annotations : value)[key] = child;
  // A union already lists its forms; the interpolation form joins them, and anyOf
  // keeps a `${...}` that another text branch also accepts from matching twice.
  if (Array.isArray(value.anyOf) && Object.keys(value).length === 1)
    return { ...annotations, anyOf: [...value.anyOf, REFERENCE] };
  return { ...annotations, anyOf: [value, REFERENCE] };
}
