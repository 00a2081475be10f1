import * as z from 'zod';
import { typeField } from '../config/base.js';
import { documented, schemaReference } from '../config/fields.js';

/** modelrun's lock, run record and history: never part of the model's outputs. */
export const MODELRUN_FOLDER = '.modelrun';

/** Fields every postprocessor config has, whatever its type. */
export function postprocessorFields<T extends string>(type: T, description: string) {
  return {
    $schema: schemaReference,
    type: typeField(type, description),
    stop_on_error: documented(z.boolean(), {
      description:
        'When this postprocessor fails, skip the ones after it. By default the rest still run; either way the run exits 1.',
      examples: [true],
    }).default(false),
  };
}

/** include/exclude globs, relative to the staging directory. */
export function globFields() {
  return {
    include: documented(z.array(z.string().min(1, { error: 'a glob cannot be empty' })).min(1), {
      description:
        'Globs of files to take, relative to the run directory, such as "output/**". Default: every file.',
      examples: [['output/**', '*.json']],
    }).default(['**']),
    exclude: documented(z.array(z.string().min(1, { error: 'a glob cannot be empty' })), {
      description:
        'Globs of files to leave out, relative to the run directory. modelrun’s own .modelrun/ folder is always left out.',
      examples: [['**/*.tmp', 'scratch/**']],
    }).default([]),
  };
}
