import * as z from 'zod';
import { documented, strictObject } from '../config/fields.js';
import type { PathContext } from '../config/path-context.js';
import { postprocessorFields } from './common.js';
import { definePostprocessor } from './types.js';

export function noopConfigSchema(_ctx: PathContext) {
  return strictObject({
    ...postprocessorFields(
      'noop',
      'Leaves the outputs where the model wrote them, after checking that there are some.',
    ),
    validate_outputs: documented(z.boolean(), {
      description:
        'Check that the run directory exists and count the files in it. When false, noop does nothing at all.',
      examples: [false],
    }).default(true),
  });
}

export type NoopConfig = z.output<ReturnType<typeof noopConfigSchema>>;

export const noopPostprocessor = definePostprocessor({
  type: 'noop',
  description: 'checks that the run directory exists and counts its files',
  configSchema: noopConfigSchema,
  summaryFields: ['validate_outputs'],
  template: { required: {} },
  async run({ validate_outputs }, context) {
    if (!validate_outputs) return { status: 'succeeded', summary: 'nothing to check' };
    // The file walker loads only when a run is postprocessed, not when a model file is read.
    const { describeCount, selectFiles, stagingDirProblem } = await import('./select-files.js');
    const problem = await stagingDirProblem(context.stagingDir);
    if (problem !== undefined) return { status: 'failed', summary: problem };
    const files = await selectFiles(context.stagingDir, { include: ['**'], exclude: [] });
    return {
      status: 'succeeded',
      summary: `${describeCount(files.length)} in ${context.stagingDir}`,
      details: { files: files.length },
    };
  },
});
