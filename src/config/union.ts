import * as z from 'zod';
import { closestMatch } from './did-you-mean.js';
import { describeValue } from './fields.js';

/** A config schema that can be one member of a union selected by `type`. */
export type TypedSchema<Config extends { type: string }> = z.ZodType<Config> &
  z.core.$ZodTypeDiscriminable;

/** A union of config schemas selected by their `type` field. */
export function unionByType<Config extends { type: string }>(
  schemas: readonly TypedSchema<Config>[],
  types: readonly string[],
  what: string,
): z.ZodType<Config> {
  const [first, ...rest] = schemas;
  if (first === undefined) throw new Error(`no ${what} types to choose from`);
  return z.discriminatedUnion('type', [first, ...rest], {
    error: (issue) => {
      if (issue.code !== 'invalid_union') return undefined;
      const input = issue.input as Record<string, unknown> | undefined;
      const type = input !== null && typeof input === 'object' ? input.type : undefined;
      const known = types.join(', ');
      if (type === undefined)
        return `type is required: set it to the ${what} type, one of ${known}`;
      const match = typeof type === 'string' ? closestMatch(type, types) : undefined;
      const suggestion = match === undefined ? '' : ` Did you mean "${match}"?`;
      return `type ${describeValue(type)} is not a ${what} type.${suggestion} Known types: ${known}`;
    },
  });
}

/**
 * The member type a union by type would hand `input` to: its `type`, when
 * `input` is a mapping and that is one of `types`. Checking the input against
 * that member alone gives what the union gives, to the byte, since the union
 * only passes it on; so a caller builds that one member, not all of them
 * (building every backend's schema costs more than checking a file). Any
 * other input gets the union, whose messages name the known types.
 */
export function namedType(input: unknown, types: readonly string[]): string | undefined {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return undefined;
  const type: unknown = Reflect.get(input, 'type');
  return typeof type === 'string' && types.includes(type) ? type : undefined;
}
