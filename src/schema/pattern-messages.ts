import type * as z from 'zod';
import type { JsonSchema } from './json-schema.js';

/** A string check's regular expression, with the message it gives when the value does not match. */
interface PatternCheck {
  pattern: RegExp;
  error: ((issue: object) => unknown) | undefined;
}

/**
 * Gives each `pattern` that a zod string check wrote the message modelrun
 * itself shows for it, as `patternErrorMessage`, which yaml-language-server
 * shows instead of the raw regular expression. A message that quotes the
 * value ("; got ...") loses that part: the editor marks the value already. A
 * message built from the value itself cannot be taken; such a field says its
 * message in `.meta({ patternErrorMessage })`, which the patterns of its
 * `allOf` inherit.
 */
export function addPatternMessages(zodSchema: z.core.$ZodType, jsonSchema: JsonSchema): void {
  const def = zodSchema._zod.def;
  const messages = new Map<string, string>();
  for (const found of [def, ...(def.checks ?? []).map((c) => c._zod.def)]) {
    const check = patternCheckOf(found);
    if (check === undefined) continue;
    const message = fixedMessage(check);
    if (message !== undefined) messages.set(check.pattern.source, message);
  }
  const own = jsonSchema.patternErrorMessage;
  for (const node of [jsonSchema, ...((jsonSchema.allOf ?? []) as JsonSchema[])]) {
    if (typeof node.pattern !== 'string' || node.patternErrorMessage !== undefined) continue;
    const message = messages.get(node.pattern) ?? own;
    if (message !== undefined) node.patternErrorMessage = message;
  }
}

/**
 * The pattern and message of a zod definition that has a pattern: a string
 * format (z.email()) or a regex check. Zod declares neither field on the
 * definitions it hands out, and declares their error maps as taking no issue
 * at all (`never`), so both are read as what they are at run time.
 */
function patternCheckOf(def: object): PatternCheck | undefined {
  const pattern = 'pattern' in def ? def.pattern : undefined;
  if (!(pattern instanceof RegExp)) return undefined;
  const map = 'error' in def && typeof def.error === 'function' ? def.error : undefined;
  // Called as a method of its definition, as zod calls it.
  const error = map && ((issue: object): unknown => map.call(def, issue));
  return { pattern, error };
}

/** The check's message, when it says the same whatever the value. */
function fixedMessage(check: PatternCheck): string | undefined {
  if (check.error === undefined) return undefined;
  const [a, b] = ['', 'x'].map((input) =>
    textOf(check.error?.({ code: 'invalid_format', format: 'regex', input })),
  );
  return a !== undefined && a === b ? a : undefined;
}

function textOf(message: unknown): string | undefined {
  const text =
    typeof message === 'string'
      ? message
      : message !== null && typeof message === 'object' && 'message' in message
        ? String(message.message)
        : undefined;
  return text?.replace(/[;,] got .*$/s, '').replace(/ \(got .*\)$/s, '');
}

/**
 * yaml-language-server shows any failed `not` as "Matches a schema that is
 * not allowed", whatever message it carries. A refused pattern written as
 * `not: { pattern, patternErrorMessage }` becomes the same rule as a
 * negative lookahead, which shows its message.
 */
export function refusedPatternsAsLookaheads(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(refusedPatternsAsLookaheads);
  if (node === null || typeof node !== 'object') return node;
  const out: JsonSchema = {};
  for (const [key, child] of Object.entries(node)) out[key] = refusedPatternsAsLookaheads(child);
  const not = out.not as JsonSchema | undefined;
  if (not === undefined || typeof not.pattern !== 'string') return out;
  const { pattern, patternErrorMessage, type, ...rest } = not;
  if (Object.keys(rest).length > 0 || (type !== undefined && type !== 'string')) return out;
  const { not: _not, ...kept } = out;
  const refused: JsonSchema = { pattern: `^(?![\\s\\S]*(?:${pattern}))` };
  if (patternErrorMessage !== undefined) refused.patternErrorMessage = patternErrorMessage;
  if (typeof kept.pattern !== 'string' && kept.allOf === undefined) return { ...kept, ...refused };
  const allOf = (kept.allOf ?? []) as JsonSchema[];
  const first =
    typeof kept.pattern === 'string'
      ? [{ pattern: kept.pattern, patternErrorMessage: kept.patternErrorMessage }]
      : [];
  const { pattern: _p, patternErrorMessage: _m, ...others } = kept;
  return { ...others, allOf: [...first, ...allOf, refused] };
}
