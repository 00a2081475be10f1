import * as z from 'zod';
import { documented, strictObject } from '../config/fields.js';
import { NON_FINITE_FIX, nonFiniteIn, nonFiniteMessage } from '../config/finite-value.js';
import type { PathContext } from '../config/path-context.js';
import { anyPath } from '../config/paths.js';
import { parseRunIdTemplate } from '../config/run-id-template.js';
import { isKnownError } from '../errors.js';
import { RUN_ID_MAX_LENGTH, RUN_ID_PATTERN, runIdRefusal } from '../model/model-config.js';
import { postprocessorListSchema } from '../postprocess/registry.js';
import { parsePath } from './override-arg.js';
import type { ParseResult } from './parse-yaml.js';
import {
  type PipelineLayering,
  pipelineLayering,
  pipelineShape,
  validateLayeredParsed,
} from './pipeline-file.js';
import type { SourceResult } from './read-source.js';
import { schemaPerFolder } from './schema-cache.js';
import { type ValidationResult, validateFile } from './validate.js';

/** The most members one ensemble runs: a product of long lists is a mistake, refused before any member is made. */
export const MAX_MEMBERS = 10_000;

/** Model fields the ensemble sets for each member, which a member's values cannot. */
const SET_BY_THE_ENSEMBLE: Record<string, string> = {
  run_id: "each member's run id comes from the ensemble's run_id: template",
  output_dir: "members are staged in the ensemble's folder (its output_dir and ensemble_id)",
  run_id_subdir: 'each member is staged in a folder of its own, named by its run id',
};

/** A path a member may set: one `--set` would take, but not a field the ensemble sets itself. */
function checkMemberPath(path: string, zctx: z.RefinementCtx, at: (string | number)[]): void {
  try {
    const parsed = parsePath(path, path);
    const why =
      parsed.target === 'model' && parsed.path.length === 1
        ? SET_BY_THE_ENSEMBLE[String(parsed.path[0])]
        : parsed.target === 'backend' && parsed.path.length === 1 && parsed.path[0] === 'type'
          ? "an ensemble's members share one backend type, which runs and throttles them as one: make one ensemble per backend type"
          : undefined;
    if (why !== undefined)
      zctx.addIssue({
        code: 'custom',
        path: at,
        input: path,
        message: `a member cannot set ${path}: ${why}`,
      });
  } catch (error) {
    if (!isKnownError(error)) throw error;
    zctx.addIssue({ code: 'custom', path: at, input: path, message: error.message });
  }
}

/** A member's value: anything JSON holds, so no infinity or NaN at any depth. */
const memberValue = z.unknown().superRefine((value, zctx) => {
  const found = nonFiniteIn(value);
  if (found !== undefined)
    zctx.addIssue({
      code: 'custom',
      path: found.path,
      input: value,
      message: `${nonFiniteMessage(found.what)}; ${NON_FINITE_FIX}`,
    });
});

const runIdTemplate = documented(
  z.string().superRefine((text, zctx) => {
    const parsed = parseRunIdTemplate(text);
    if (!parsed.ok) zctx.addIssue({ code: 'custom', input: text, message: parsed.message });
  }),
  {
    description:
      "Each member's run id, a template of {{ member.NAME }} (a parameter's last key, such as depth_m for config.depth_m; index; replica) and {{ config.PATH }} fields. Default: the model's run_id, a dash and the member's index. Two members with the same run id are an error.",
    examples: ['wave-d{{ member.depth_m }}-a{{ member.amplitude_m }}'],
  },
);

/**
 * An ensemble file: a pipeline (model, backend, postprocessing) and the
 * members to run it as, each a set of values at `--set` paths.
 */
export function ensembleConfigSchema(ctx: PathContext) {
  return strictObject(ensembleShape(ctx));
}

/**
 * The ensemble file as each member's run reads it, the member's values
 * over it. Its lists of members (`parameters:`, `members:`) were checked
 * with the whole file, before any member: checked again for every member,
 * they made checking N members take N² steps. The rest is checked as in
 * the whole file, so that a member's model and backend have the same
 * errors, at the same places.
 */
export function ensembleMemberSchema(ctx: PathContext) {
  return strictObject({
    ...ensembleShape(ctx),
    parameters: z.unknown().optional(),
    members: z.unknown().optional(),
  });
}

function ensembleShape(ctx: PathContext) {
  return {
    ...pipelineShape(ctx),
    ensemble_id: documented(
      z
        .string()
        .max(RUN_ID_MAX_LENGTH, { error: `is too long: at most ${RUN_ID_MAX_LENGTH} characters` })
        .regex(RUN_ID_PATTERN, {
          error: (issue) => runIdRefusal(String(issue.input), 'depth-study'),
        }),
      {
        description:
          "Name of the ensemble: its folder under output_dir, which holds ensemble.json and each member's run folder. Default: the model's run_id.",
        examples: ['depth-study'],
      },
    ).optional(),
    output_dir: anyPath(ctx, {
      description:
        "Where the ensemble's folder is made. Relative paths are resolved against this file's folder. Default: the model's output_dir.",
      examples: ['./simulations'],
    }).optional(),
    run_id: runIdTemplate.optional(),
    parameters: documented(
      z
        .record(
          z.string(),
          z.array(memberValue).min(1, { error: 'lists no values; give at least one' }),
        )
        .superRefine((parameters, zctx) => {
          for (const path of Object.keys(parameters)) checkMemberPath(path, zctx, [path]);
        }),
      {
        description:
          'Paths into the model (config.depth_m) or, with a backend. prefix, the backend config (backend.memory), as --set writes them, each with the list of values it takes. Members are every combination of them, the last path varying fastest.',
        examples: [{ 'config.depth_m': [5, 10, 20], 'config.amplitude_m': [0.5, 1] }],
      },
    ).default({}),
    members: documented(
      z
        .array(
          z.record(z.string(), memberValue).superRefine((member, zctx) => {
            for (const path of Object.keys(member)) checkMemberPath(path, zctx, [path]);
          }),
        )
        .min(1, { error: 'lists no member; remove it, or give at least one' }),
      {
        description:
          "Members written out, each a mapping of the same paths to the values it takes; run after the parameters' combinations, or alone.",
        examples: [[{ 'config.depth_m': 50, 'backend.memory': '8g' }]],
      },
    ).optional(),
    replicas: documented(z.number().int().min(1).max(MAX_MEMBERS), {
      description:
        'How many times each member runs, for a stochastic model; templates see member.replica, from 0.',
      examples: [5],
    }).default(1),
    max_parallel: documented(z.number().int().min(1).max(MAX_MEMBERS), {
      description:
        'The most members running at once. Default: the CPU count on local, 4 on docker and apptainer; on slurm, the array throttle (%N). --max-parallel overrides it.',
      examples: [2],
    }).optional(),
    fail_fast: documented(z.boolean(), {
      description:
        "Stop the ensemble when a member fails: members still running are cancelled, and those not started are not. Default: a member's failure does not stop the others.",
      examples: [true],
    }).default(false),
    aggregate: documented(postprocessorListSchema(ctx), {
      description:
        "Postprocessors run once after all members, in the ensemble's folder, where ensemble.json lists every member's run folder, values and status; such as a command that merges the members' outputs.",
      examples: [[{ type: 'command', command: 'python3 ../merge.py ensemble.json' }]],
    }).default([]),
  };
}

export type EnsembleConfig = z.output<ReturnType<typeof ensembleConfigSchema>>;

const schemaFor = schemaPerFolder(ensembleConfigSchema);

/**
 * Checks an ensemble file as a whole: its own fields, and its model and
 * backend sections with the command line's overrides but without any
 * member's values. Each member is checked when it is loaded.
 */
export function validateEnsembleFile(
  file: string,
  env: NodeJS.ProcessEnv,
  display?: string,
  source?: SourceResult,
  layering: PipelineLayering = {},
): ValidationResult<EnsembleConfig> {
  return validateFile(file, schemaFor(file), {
    env,
    ...(display === undefined ? {} : { display }),
    ...(source === undefined ? {} : { source }),
    ...pipelineLayering(file, layering),
  });
}

/** Validates a parsed ensemble file read from `file`, shown as `shown`. */
export function validateEnsembleParsed(
  file: string,
  shown: string,
  parsed: ParseResult,
  env: NodeJS.ProcessEnv,
  layering: PipelineLayering = {},
): ValidationResult<EnsembleConfig> {
  return validateLayeredParsed(schemaFor(file), file, shown, parsed, env, layering);
}

export type EnsembleMemberConfig = z.output<ReturnType<typeof ensembleMemberSchema>>;

const memberSchemaFor = schemaPerFolder(ensembleMemberSchema);

/** Validates a parsed ensemble file as a member's run reads it: once the whole file is valid. */
export function validateEnsembleMemberParsed(
  file: string,
  shown: string,
  parsed: ParseResult,
  env: NodeJS.ProcessEnv,
  layering: PipelineLayering = {},
): ValidationResult<EnsembleMemberConfig> {
  return validateLayeredParsed(memberSchemaFor(file), file, shown, parsed, env, layering);
}
