import { posix } from 'node:path';
import * as z from 'zod';
import { documented, strictObject } from '../config/fields.js';
import type { PathContext } from '../config/path-context.js';
import { globFields, MODELRUN_FOLDER, postprocessorFields } from './common.js';
import { definePostprocessor } from './types.js';

/**
 * Relative, no "..", not under .modelrun/, not a folder: a file inside the
 * run directory.
 */
const RELATIVE_INSIDE =
  /^(?![/~])(?!(?:.*[\\/])?\.\.(?:[\\/]|$))(?!(?:\.\/+)*\.modelrun(?:\/|$))(?!.*\/$)(?!(?:\.\/*)+$).+$/;

/** Why `output` would not name a file inside the run directory. */
function outputPathProblem(written: string): string | undefined {
  const hint = 'give a path relative to the run directory, such as "SHA256SUMS"';
  if (posix.isAbsolute(written) || written.startsWith('~')) {
    const where = written.startsWith('~') ? 'points into the home folder' : 'is absolute';
    return `"${written}" ${where}, but the checksum file is written inside the run directory; ${hint}`;
  }
  if (written.split(/[\\/]/).includes('..')) {
    return `"${written}" uses "..", but the checksum file must stay inside the run directory; ${hint}`;
  }
  const normal = posix.normalize(written);
  if (normal === '.' || normal.endsWith('/'))
    return `"${written}" names a folder, not a file; ${hint}`;
  if (normal.split('/')[0] === MODELRUN_FOLDER)
    return `"${written}" is inside ${MODELRUN_FOLDER}/, which modelrun keeps for itself; ${hint}`;
  return undefined;
}

export function checksumConfigSchema(_ctx: PathContext) {
  return strictObject({
    ...postprocessorFields(
      'checksum',
      'Writes a SHA-256 checksum file of the outputs, which `sha256sum -c` can check.',
    ),
    ...globFields(),
    output: documented(
      z
        .string()
        .min(1, { error: 'a path cannot be empty' })
        // The same rules as outputPathProblem, as a pattern, so that the JSON Schema enforces them too.
        .regex(RELATIVE_INSIDE, {
          error: (issue) =>
            outputPathProblem(String(issue.input)) ??
            'must be a file path inside the run directory',
        })
        .meta({
          patternErrorMessage:
            'must be a file path relative to the run directory and inside it, such as "SHA256SUMS"',
        }),
      {
        description:
          'Name of the checksum file, relative to the run directory, which it must stay inside. Check the outputs with `sha256sum -c SHA256SUMS` run in that directory.',
        examples: ['SHA256SUMS', 'checksums/outputs.sha256'],
      },
    )
      // Normal form ("./a//b" → "a/b"), so that it matches the relative paths of the files.
      .transform((written) => posix.normalize(written))
      .default('SHA256SUMS'),
  });
}

export type ChecksumConfig = z.output<ReturnType<typeof checksumConfigSchema>>;

export const checksumPostprocessor = definePostprocessor({
  type: 'checksum',
  description: 'writes a SHA256SUMS file of the outputs',
  configSchema: checksumConfigSchema,
  summaryFields: ['output', 'include', 'exclude'],
  template: { required: {} },
  // What hashes and selects files loads only when a checksum file is written.
  run: async (config, context) => (await import('./checksum-run.js')).checksumRun(config, context),
});
