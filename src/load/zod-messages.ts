import type * as z from 'zod';
import { closestMatch } from '../config/did-you-mean.js';
import { describeValue } from '../config/fields.js';
import { count } from '../plural.js';

const EXPECTED: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
  record: 'a mapping',
};

/**
 * Zod's generic messages, reworded for people editing YAML. Schemas that
 * know better give their own message, which takes precedence.
 */
export const friendlyMessages: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `must be ${EXPECTED[issue.expected] ?? issue.expected}, got ${describeValue(issue.input)}`;
    case 'too_small':
      if (issue.origin === 'array')
        return `must have at least ${count(Number(issue.minimum), 'item')}`;
      if (issue.origin === 'string') return 'cannot be empty';
      return `must be at least ${issue.minimum}, got ${describeValue(issue.input)}`;
    case 'too_big':
      return `must be at most ${issue.maximum}, got ${describeValue(issue.input)}`;
    case 'invalid_value': {
      const options = issue.values.map((value) => JSON.stringify(value));
      const match =
        typeof issue.input === 'string'
          ? closestMatch(issue.input, issue.values.map(String))
          : undefined;
      const hint = match === undefined ? '' : ` (did you mean "${match}"?)`;
      return `must be ${options.length === 1 ? options[0] : `one of ${options.join(', ')}`}, got ${describeValue(issue.input)}${hint}`;
    }
    default:
      return undefined;
  }
};
