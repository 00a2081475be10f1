import type * as z from 'zod';
import { commonFields, typeField } from '../../config/base.js';
import { strictObject } from '../../config/fields.js';
import type { PathContext } from '../../config/path-context.js';
import { apptainerFields, oneImageSource } from '../containers/apptainer-fields.js';

export function apptainerConfigSchema(ctx: PathContext) {
  return oneImageSource(
    strictObject({
      type: typeField('apptainer', 'Runs the model in an Apptainer (or Singularity) container.'),
      ...commonFields(ctx),
      ...apptainerFields(ctx),
    }),
  );
}

export type ApptainerConfig = z.output<ReturnType<typeof apptainerConfigSchema>>;
