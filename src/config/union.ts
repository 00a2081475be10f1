import * as z from 'zod';
import { closestMatch } from './did-you-mean.js';
import { describeValue } from './fields.js';

/** A union of config schemas selected by their `type` field. */
export function unionByType(schemas: readonly z.ZodType[], types: readonly string[], what: string) {
  const options = schemas as unknown as [z.ZodObject, ...z.ZodObject[]];
  return z.discriminatedUnion('type', options, {
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
