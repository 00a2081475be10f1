import type { JsonSchema } from './json-schema.js';

/** The keywords that apply to values of one JSON type only. */
const KEYWORDS_OF: Record<string, readonly string[]> = {
  string: ['pattern', 'patternErrorMessage', 'format', 'minLength', 'maxLength'],
  number: ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'],
  integer: ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'],
};
const TYPED = new Set(Object.values(KEYWORDS_OF).flat());

/**
 * Writes each `type: [a, b]` as `anyOf: [{type: a}, {type: b}]`, each with
 * the keywords that apply to its type. The same values pass; ajv in strict
 * mode refuses a union type unless told allowUnionTypes, so this keeps the
 * schemas usable with a plain `strict: true`.
 */
export function splitUnionTypes(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(splitUnionTypes);
  if (node === null || typeof node !== 'object') return node;
  const out: JsonSchema = {};
  for (const [key, child] of Object.entries(node)) out[key] = splitUnionTypes(child) as never;
  if (!Array.isArray(out.type)) return out;
  const { type, ...rest } = out;
  const shared: JsonSchema = {};
  const typed: JsonSchema = {};
  for (const [key, value] of Object.entries(rest)) (TYPED.has(key) ? typed : shared)[key] = value;
  const branches = (type as string[]).map((t) => {
    const own = Object.entries(typed).filter(([key]) => KEYWORDS_OF[t]?.includes(key));
    return { type: t, ...Object.fromEntries(own) };
  });
  // An anyOf already there is kept beside the new one, through allOf.
  if (shared.anyOf === undefined) return { ...shared, anyOf: branches };
  const { anyOf, ...others } = shared;
  return { ...others, allOf: [{ anyOf }, { anyOf: branches }] };
}
