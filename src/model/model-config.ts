import * as z from 'zod';
import { documented, schemaReference, strictObject } from '../config/fields.js';
import type { PathContext } from '../config/path-context.js';
import { anyPath, existingPath } from '../config/paths.js';
import { postprocessorListSchema } from '../postprocess/registry.js';
import { periodSchema } from './period.js';

/** Letters, digits, `.`, `_` and `-`, but not `.` or `..`, which would name a folder that is not the run's own. */
export const RUN_ID_PATTERN = /^(?!\.{1,2}$)[A-Za-z0-9._-]+$/;

/** The model file: what to stage, what to run, and what to do with the outputs. */
export function modelConfigSchema(ctx: PathContext) {
  return strictObject({
    $schema: schemaReference,
    run_id: documented(
      z
        .string({
          error: (issue) =>
            issue.input === undefined
              ? 'is required: name this run, such as "hindcast-2024-01"'
              : undefined,
        })
        .regex(RUN_ID_PATTERN, {
          error: (issue) =>
            issue.input === '.' || issue.input === '..'
              ? 'cannot be "." or ".."'
              : 'must use only letters, digits, ".", "_" and "-", such as "hindcast-2024-01"',
        }),
      {
        description:
          'Name of this run. It names the staging directory, and labels containers and jobs.',
        examples: ['hindcast-2024-01'],
      },
    ),
    output_dir: anyPath(ctx, {
      description:
        "Where runs are staged. Relative paths are resolved against this model file's folder.",
      examples: ['./simulations'],
    }).prefault('./simulations'),
    run_id_subdir: documented(z.boolean(), {
      description:
        'Stage the run in output_dir/run_id. When false, output_dir itself is the staging directory.',
      examples: [false],
    }).default(true),
    delete_existing: documented(z.boolean(), {
      description:
        'Empty the staging directory before staging. Refused when it is /, your home, the current directory or one of its parents, or outside output_dir.',
      examples: [true],
    }).default(false),
    period: periodSchema.optional(),
    template: existingPath(ctx, 'directory', {
      description:
        'Folder rendered into the staging directory with Nunjucks (Jinja syntax). File contents and file and folder names are templated; binary files are copied as they are.',
      examples: ['./template'],
    }).optional(),
    config: documented(z.record(z.string(), z.unknown()), {
      description: 'Model parameters, free-form. Templates see them as config.',
      examples: [{ grid: { nx: 400, length_m: 1000 }, wave_speed_m_s: 9.8 }],
    }).default({}),
    command: documented(z.string().min(1, { error: 'command cannot be empty' }), {
      description:
        "The model's command, run in the staging directory. A backend's command or executable overrides it.",
      examples: ['node wave.js input.json'],
    }).optional(),
    postprocess: documented(postprocessorListSchema(ctx), {
      description: 'Postprocessors run in order on the finished run, such as checksum and archive.',
      examples: [[{ type: 'checksum' }, { type: 'archive', format: 'tar.gz' }]],
    }).default([]),
  });
}

export type ModelConfig = z.output<ReturnType<typeof modelConfigSchema>>;
