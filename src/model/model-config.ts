import * as z from 'zod';
import { checkCommandSize } from '../config/exec-limits.js';
import { documented, extendsField, schemaReference, strictObject } from '../config/fields.js';
import type { PathContext } from '../config/path-context.js';
import { anyPath, existingPath } from '../config/paths.js';
import { periodSchema } from './period.js';

/**
 * Letters, digits, `.`, `_` and `-`, but not `.` or `..`, which would name a
 * folder that is not the run's own, nor `.modelrun` in any case (a
 * case-insensitive disk folds them), which would stage the run in another
 * run's bookkeeping folder. Spelled without the `i` flag, which JSON Schema
 * patterns do not carry.
 */
export const RUN_ID_PATTERN =
  /^(?!\.{1,2}$)(?!\.[Mm][Oo][Dd][Ee][Ll][Rr][Uu][Nn]$)[A-Za-z0-9._-]+$/;

/**
 * Why RUN_ID_PATTERN refuses `id`, as the rest of a sentence about it,
 * with `example` (if given) as a name to write instead. A name refused for
 * what it means (`.`, `..`, `.modelrun`) is told so, not told to use the
 * letters it already uses.
 */
export function runIdRefusal(id: string, example?: string): string {
  if (id === '.' || id === '..')
    return 'cannot be "." or "..": it names a folder, and these name the folder it would be in and the one above';
  if (id.toLowerCase() === '.modelrun')
    return 'cannot be ".modelrun" (in any case), the name of the folder where modelrun keeps its records and locks';
  return `must use only letters, digits, ".", "_" and "-"${example === undefined ? '' : `, such as "${example}"`}`;
}

/**
 * A run_id names a folder (255 bytes at most), a container
 * (`modelrun-<run_id>-<8 hex>`) and a Slurm job (`modelrun-<run_id>`): 128
 * leaves room for all three.
 */
export const RUN_ID_MAX_LENGTH = 128;

/** A validated postprocessor of the model file: its `type`, `stop_on_error`, and that type's fields. */
export type PostprocessorConfig = { type: string; stop_on_error: boolean } & Record<
  string,
  unknown
>;

/**
 * The model file: what to stage, what to run, and what to do with the
 * outputs. The postprocessors' schema comes from their registry, which
 * loading passes in (src/load/model-schema.ts): the model layer knows what
 * a postprocessor config is, not which postprocessors there are.
 */
export function modelFileSchema(
  ctx: PathContext,
  postprocessors: z.ZodType<PostprocessorConfig[]>,
) {
  return strictObject({
    $schema: schemaReference,
    extends: extendsField,
    run_id: documented(
      z
        .string({
          error: (issue) =>
            issue.input === undefined
              ? 'is required: name this run, such as "hindcast-2024-01"'
              : undefined,
        })
        .max(RUN_ID_MAX_LENGTH, {
          error: `is too long: at most ${RUN_ID_MAX_LENGTH} characters, as it names a folder, a container and a job`,
        })
        .regex(RUN_ID_PATTERN, {
          error: (issue) => runIdRefusal(String(issue.input), 'hindcast-2024-01'),
        }),
      {
        description:
          'Name of this run, at most 128 characters. It names the staging directory, and labels containers and jobs.',
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
        'Empty the staging directory before staging. Only a folder modelrun staged itself (it holds .modelrun/) is emptied, and never output_dir itself (keep run_id_subdir true), a folder holding the model file or template, /, your home or a folder above it.',
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
    command: documented(
      z.string().min(1, { error: 'command cannot be empty' }).superRefine(checkCommandSize),
      {
        description:
          "The model's command, run in the staging directory. A backend's command or executable overrides it.",
        examples: ['node wave.js input.json'],
      },
    ).optional(),
    mpi: documented(z.boolean(), {
      description:
        "The command is an MPI program: its ranks share the work, so a backend's mpiexec may start several copies of it. Without it, a run whose backend starts several copies warns.",
      examples: [true],
    }).default(false),
    postprocess: documented(postprocessors, {
      description: 'Postprocessors run in order on the finished run, such as checksum and archive.',
      examples: [[{ type: 'checksum' }, { type: 'archive', format: 'tar.gz' }]],
    }).default([]),
  });
}

export type ModelConfig = z.output<ReturnType<typeof modelFileSchema>>;
