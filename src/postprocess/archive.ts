import * as z from 'zod';
import { describeValue, documented, strictObject } from '../config/fields.js';
import type { PathContext } from '../config/path-context.js';
import { anyPath } from '../config/paths.js';
import { globFields, postprocessorFields } from './common.js';
import { definePostprocessor } from './types.js';

const FORMATS = ['tar.gz', 'zip'] as const;

export function archiveConfigSchema(ctx: PathContext) {
  return strictObject({
    ...postprocessorFields('archive', "Packs the run's outputs into one tar.gz or zip file."),
    format: documented(
      z.enum(FORMATS, {
        error: (issue) => `must be "tar.gz" or "zip"; got ${describeValue(issue.input)}`,
      }),
      {
        description:
          'Archive format: "tar.gz" (keeps permissions and owner numbers, best on Linux and macOS) or "zip" (keeps permissions, opens anywhere). Both store a symlink that stays inside the run directory as a link (one that leads out is left out, never followed) and drop setuid, setgid and sticky bits.',
        examples: ['zip'],
      },
    ).default('tar.gz'),
    ...globFields(),
    destination: anyPath(ctx, {
      description:
        "Where to write the archive. Relative paths are resolved against this config file's folder; missing folders are created. A file already there is replaced only if it is an archive modelrun wrote; anything else (your file, a folder, a device, a symlink) is refused. Default: <output_dir>/<run id>.tar.gz (or .zip).",
      examples: ['archives/latest.tar.gz'],
    }).optional(),
  });
}

export type ArchiveConfig = z.output<ReturnType<typeof archiveConfigSchema>>;

export const archivePostprocessor = definePostprocessor({
  type: 'archive',
  description: "packs the run's outputs into a tar.gz or zip file",
  configSchema: archiveConfigSchema,
  summaryFields: ['format', 'destination', 'include', 'exclude'],
  template: { required: {} },
  // What writes archives (archiver, a glob matcher) loads only when one is written.
  run: async (config, context) => (await import('./archive-run.js')).archiveRun(config, context),
});
