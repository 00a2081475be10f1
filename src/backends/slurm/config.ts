import * as z from 'zod';
import { commonFields, TIMEOUT_BOUNDS, timeoutField, typeField } from '../../config/base.js';
import { checkCommandSize } from '../../config/exec-limits.js';
import { documented, durationSeconds, formatDuration, strictObject } from '../../config/fields.js';
import type { PathContext } from '../../config/path-context.js';
import { anyPath } from '../../config/paths.js';
import { notBoth, onlyWith, schemaRules } from '../../config/schema-rules.js';
import { unionByType } from '../../config/union.js';
import { isSecretName } from '../../secrets.js';
import {
  type ApptainerContainerConfig,
  apptainerContainerSchema,
} from '../containers/apptainer-fields.js';
import { type DockerContainerConfig, dockerContainerSchema } from '../containers/docker-fields.js';
import { exportOptionIndex, namelessExport, namelessExportProblem } from './export.js';
import {
  FORBIDDEN_OPTION_PATTERN,
  FORBIDDEN_OPTION_RULE,
  forbiddenOptionProblem,
} from './options.js';
import { SCRIPT_SAFE, scriptTextProblem } from './text.js';

/** HH:MM:SS with 1 to 4 digits of hours, or D-HH:MM:SS: the forms modelrun passes to --time. */
export const TIME_LIMIT_PATTERN =
  /^(?:\d{1,4}:[0-5]\d:[0-5]\d|\d{1,3}-(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d)$/;
/** The seconds a time_limit that matches TIME_LIMIT_PATTERN stands for. */
export function timeLimitSeconds(limit: string): number {
  const [days, clock] = limit.includes('-') ? limit.split('-') : ['0', limit];
  const [h = 0, m = 0, s = 0] = (clock ?? '').split(':').map(Number);
  return Number(days) * 86_400 + h * 3600 + m * 60 + s;
}

/** A time_limit of zero, which Slurm reads as no limit at all. */
const ZERO_TIME_LIMIT = '^(?:0+-)?0+:00:00$';

const TIME_LIMIT_FORMS =
  'must be HH:MM:SS (1 to 4 digits of hours) or D-HH:MM:SS, such as "02:00:00" or "1-12:00:00"';

/**
 * The message for a time_limit written as a number of minutes, as in
 * `#SBATCH -t 30`: sbatch reads a bare number as minutes, which this field
 * does not guess, but says how to write.
 */
function minutesTimeLimit(input: unknown): string {
  const minutes = Number(input);
  const written = JSON.stringify(input) ?? String(input);
  const text = typeof input === 'number' ? 'must be text' : TIME_LIMIT_FORMS;
  if (!Number.isSafeInteger(minutes) || minutes <= 0 || minutes >= 10_000 * 60)
    return `${text}, such as "02:00:00" or "1-12:00:00"; got ${written}`;
  const clock = (n: number) => String(n).padStart(2, '0');
  const hhmmss = `${clock(Math.floor(minutes / 60))}:${clock(minutes % 60)}:00`;
  return `${text}: sbatch reads a bare ${minutes} as ${minutes} minutes, which is written "${hhmmss}" here`;
}

/** Slurm's memory sizes: a number with an optional unit K, M, G or T (megabytes without one). */
const SLURM_MEMORY = /^\d+[KMGTkmgt]?$/;
const MAIL_TYPES = [
  'NONE',
  'BEGIN',
  'END',
  'FAIL',
  'REQUEUE',
  'ALL',
  'INVALID_DEPEND',
  'STAGE_OUT',
  'TIME_LIMIT',
  'TIME_LIMIT_90',
  'TIME_LIMIT_80',
  'TIME_LIMIT_50',
  'ARRAY_TASKS',
] as const;

const SCRIPT_SAFE_ERROR = {
  error: (issue: { input?: unknown }) => scriptTextProblem(String(issue.input)),
};
const GPUS_FORM = 'must be a number of GPUs, or type:count such as "a100:2"';
/** SCRIPT_SAFE's rule in words, for an editor, which cannot point at the character. */
const SCRIPT_SAFE_RULE =
  'cannot hold a line break, tab or other control character, which would end or split a line of the batch script';

/** Text that becomes an #SBATCH value: nothing in it may end or split a line of the script. */
const directive = (description: string, example: string) =>
  documented(
    z
      .string()
      .min(1, { error: 'cannot be empty' })
      .regex(SCRIPT_SAFE, SCRIPT_SAFE_ERROR)
      .meta({ patternErrorMessage: SCRIPT_SAFE_RULE }),
    { description, examples: [example] },
  ).optional();

/**
 * A path that becomes an #SBATCH value, checked as it reaches the script:
 * resolved, so a control character in the config file's folder counts too.
 */
function directivePath<T extends z.ZodType<string, string>>(path: T) {
  return path
    .superRefine((value, zctx) => {
      const problem = scriptTextProblem(value);
      if (problem !== undefined) zctx.addIssue({ code: 'custom', input: value, message: problem });
    })
    .meta({ pattern: SCRIPT_SAFE.source, patternErrorMessage: SCRIPT_SAFE_RULE })
    .optional();
}

const count = (min: number, max: number | undefined, description: string, example: number) =>
  documented(max === undefined ? z.number().int().min(min) : z.number().int().min(min).max(max), {
    description,
    examples: [example],
  }).optional();

const MEMORY_MESSAGE =
  'must be a size such as "4G" or "500M", or a whole number of megabytes such as 4096 (as sbatch reads a number without a unit)';

/** As sbatch reads --mem: a number without a unit is megabytes, written bare or as text. */
const memory = (description: string, example: string) =>
  documented(
    z.union(
      [
        z
          .number({ error: MEMORY_MESSAGE })
          .int({ error: MEMORY_MESSAGE })
          .min(1, { error: MEMORY_MESSAGE })
          .transform(String),
        z.string().regex(SLURM_MEMORY, { error: MEMORY_MESSAGE }),
      ],
      { error: MEMORY_MESSAGE },
    ),
    { description, examples: [example] },
  ).optional();

export function slurmConfigSchema(ctx: PathContext) {
  const common = commonFields(ctx);
  return strictObject({
    type: typeField('slurm', 'Submits the model to a Slurm cluster as a batch job.'),
    ...common,
    working_dir: directivePath(common.working_dir.unwrap()),
    // Secret values reach the job through sbatch's environment, which cannot hold a NUL.
    env_vars: common.env_vars
      .unwrap()
      .superRefine((map, zctx) => {
        for (const [name, value] of Object.entries(map)) {
          if (value.includes('\0'))
            zctx.addIssue({
              code: 'custom',
              path: [name],
              input: value,
              message: 'cannot hold a NUL character (\\x00): no environment variable can carry one',
            });
        }
      })
      .meta({
        additionalProperties: {
          type: ['string', 'number', 'boolean'],
          not: {
            type: 'string',
            pattern: '\\u0000',
            patternErrorMessage:
              'cannot hold a NUL character: no environment variable can carry one',
          },
        },
      })
      .optional(),
    // No default: time_limit is the job's limit, enforced by Slurm itself.
    timeout: timeoutField(
      "modelrun's own limit on the job's RUNNING time, counted from when the job starts; time waiting in the queue does not count (see queue_timeout). When it expires, the job is cancelled and the run is recorded as timed out. Default: none, the job ends at its time_limit. No longer than time_limit.",
    ).optional(),
    queue_timeout: durationSeconds(
      { min: 1, max: TIMEOUT_BOUNDS.max },
      {
        description:
          'How long the job may wait in the queue (PENDING) before modelrun cancels it and records the run as timed out, with the reason Slurm gave for the wait. Whole seconds or a duration such as "30m" or "2h"; 1 second to 365 days. Default: none, the job waits as long as Slurm keeps it.',
        examples: ['30m', '2h'],
      },
    ).optional(),
    queue: directive(
      'Partition to submit to (--partition). Default: the cluster’s default partition.',
      'compute',
    ),
    nodes: count(1, 100, 'Nodes for the job (--nodes), 1 to 100.', 2),
    ntasks: count(1, undefined, 'Tasks (MPI ranks) for the job (--ntasks).', 8),
    cpus_per_task: count(1, 128, 'CPUs per task (--cpus-per-task), 1 to 128.', 4),
    mem: memory(
      'Memory per node (--mem), such as "4G"; a number without a unit is megabytes, as for sbatch. Give this or mem_per_cpu, not both.',
      '16G',
    ),
    mem_per_cpu: memory(
      'Memory per CPU (--mem-per-cpu), such as "2G"; a number without a unit is megabytes. Give this or mem, not both.',
      '2G',
    ),
    time_limit: documented(
      z
        .string({
          error: (issue) =>
            issue.code === 'invalid_type' ? minutesTimeLimit(issue.input) : undefined,
        })
        .regex(TIME_LIMIT_PATTERN, {
          error: (issue) =>
            /^\d+$/.test(String(issue.input))
              ? minutesTimeLimit(issue.input)
              : `${TIME_LIMIT_FORMS}; got ${JSON.stringify(issue.input)}`,
        })
        .refine((limit) => !TIME_LIMIT_PATTERN.test(limit) || timeLimitSeconds(limit) > 0, {
          error:
            'cannot be zero: to Slurm a time limit of 0 means none at all; give the time the run needs, or leave time_limit out for the partition’s limit',
        })
        .meta({
          not: {
            pattern: ZERO_TIME_LIMIT,
            patternErrorMessage:
              'cannot be zero: to Slurm a time limit of 0 means none at all; give the time the run needs, or leave time_limit out',
          },
        }),
      {
        description:
          "The job's wall-clock limit on the cluster (--time): HH:MM:SS with 1 to 4 digits of hours, or D-HH:MM:SS. Slurm counts it from when the job starts, not while it waits in the queue, and ends the job when it is reached; the run is recorded as timed out. Default: the partition's limit.",
        examples: ['04:00:00', '1-12:00:00'],
      },
    ).optional(),
    account: directive('Account to charge (--account).', 'ocean-modelling'),
    qos: directive('Quality of service (--qos).', 'normal'),
    reservation: directive('Reservation to run in (--reservation).', 'maintenance-window'),
    constraint: directive('Node features the job needs (--constraint).', 'skylake&ib'),
    gres: directive('Generic resources per node (--gres).', 'gpu:2'),
    gpus: documented(
      z.union(
        [
          z.number().int().min(1),
          z
            .string()
            .regex(/^(?:[A-Za-z0-9_-]+:)?\d+$/)
            .meta({ patternErrorMessage: GPUS_FORM }),
        ],
        { error: GPUS_FORM },
      ),
      {
        description: 'GPUs for the job (--gpus): a count, or type:count.',
        examples: [2, 'a100:2'],
      },
    ).optional(),
    exclusive: documented(z.boolean(), {
      description: 'Do not share the nodes with other jobs (--exclusive).',
      examples: [true],
    }).default(false),
    job_name: directive(
      'Name of the job (--job-name). Default: modelrun-<run_id>.',
      'wave-hindcast',
    ),
    output_file: directivePath(
      anyPath(ctx, {
        description:
          "File the job's stdout goes to (--output), with Slurm's patterns (%j job id, %x job name, %u user, %N node, %5j padded…). modelrun names it as Slurm does and tails it into the run's logs. Default: logs/slurm-%j.out in the staging directory.",
        examples: ['/scratch/me/logs/%j.out'],
      }),
    ),
    error_file: directivePath(
      anyPath(ctx, {
        description:
          "File the job's stderr goes to (--error), with the same patterns as output_file. Default: logs/slurm-%j.err in the staging directory.",
        examples: ['/scratch/me/logs/%j.err'],
      }),
    ),
    mail_type: documented(z.array(z.enum(MAIL_TYPES)).min(1), {
      description: 'Events to mail about (--mail-type), such as [END, FAIL]. Needs mail_user.',
      examples: [['END', 'FAIL']],
    }).optional(),
    mail_user: documented(z.email({ error: 'must be an email address' }), {
      description: 'Where the mail goes (--mail-user). Needs mail_type.',
      examples: ['modeller@example.org'],
    }).optional(),
    postprocess_on: documented(z.enum(['wait', 'node']), {
      description:
        'Where the postprocessors of a run submitted with --detach run: "wait" (the default) in `modelrun wait`, wherever you run it; "node" in a job of their own that Slurm starts once the run\'s job has succeeded (--dependency=afterok), on a compute node, asking for one task with the run\'s cpus_per_task, memory, time_limit, queue, account, qos and reservation. modelrun must be installed at the same path on the compute nodes, and your home folder shared with them. A run that modelrun follows is postprocessed by that modelrun.',
      examples: ['node'],
    }).default('wait'),
    additional_options: documented(
      z.array(
        z
          .string()
          .regex(/^--?[A-Za-z][A-Za-z0-9-]*(?:=[\s\S]*)?$/, {
            error: 'must be an sbatch option such as "--licenses=matlab:1"',
          })
          .regex(SCRIPT_SAFE, SCRIPT_SAFE_ERROR)
          .superRefine((option, zctx) => {
            const problem = forbiddenOptionProblem(option);
            if (problem !== undefined)
              zctx.addIssue({ code: 'custom', input: option, message: problem });
          })
          .meta({
            patternErrorMessage: SCRIPT_SAFE_RULE,
            not: { pattern: FORBIDDEN_OPTION_PATTERN, patternErrorMessage: FORBIDDEN_OPTION_RULE },
          }),
      ),
      {
        description:
          "More sbatch options, one per entry, as `--option=value` with the value unquoted; modelrun quotes it in the batch script. Options a field sets (--partition, --time, ...) and those that break following one job (--array, --wait) are refused. An --export of your own is kept, with the secret variables' names added.",
        examples: [['--licenses=matlab:1', '--requeue']],
      },
    ).optional(),
    command: documented(
      z.string().min(1, { error: 'cannot be empty' }).superRefine(checkCommandSize),
      {
        description: "Command the job runs instead of the model's own `command`.",
        examples: ['srun ./ww3_shel'],
      },
    ).optional(),
    container: documented(
      unionByType<ApptainerContainerConfig | DockerContainerConfig>(
        [apptainerContainerSchema(ctx), dockerContainerSchema(ctx)],
        ['apptainer', 'docker'],
        'container',
      ),
      {
        description:
          'Run the command in a container on the compute node: an apptainer block (the usual HPC setup) or a docker block, with the fields of those backends.',
        examples: [{ type: 'apptainer', image: 'docker://ubuntu:22.04', binds: ['/scratch'] }],
      },
    ).optional(),
  })
    .meta(
      // mem or mem_per_cpu; mail_type and mail_user together. (timeout within
      // time_limit compares two values, which a JSON Schema cannot.)
      schemaRules(
        notBoth('mem', 'mem_per_cpu', 'cannot specify both mem and mem_per_cpu'),
        onlyWith('mail_type', 'mail_user', 'mail_type needs mail_user: give both or neither'),
        onlyWith('mail_user', 'mail_type', 'mail_user needs mail_type: give both or neither'),
      ),
    )
    .superRefine(
      (config, zctx) => {
        // Secret values by name only here; those masked by value are found when the job is planned.
        const index = exportOptionIndex(config.additional_options);
        const keyword = namelessExport(
          (config.additional_options?.[index] ?? '').slice('--export='.length).split(','),
        );
        const secrets = Object.keys(config.env_vars ?? {}).filter(isSecretName);
        if (keyword !== undefined && secrets.length > 0)
          zctx.addIssue({
            code: 'custom',
            path: ['additional_options', index],
            input: config,
            message: `--export=${keyword} ${namelessExportProblem(keyword, secrets)}; list what the job needs instead, such as --export=PATH,HOME`,
          });
        if (config.mem !== undefined && config.mem_per_cpu !== undefined) {
          zctx.addIssue({
            code: 'custom',
            path: ['mem_per_cpu'],
            input: config,
            message: 'cannot specify both mem and mem_per_cpu',
          });
        }
        if ((config.mail_type === undefined) !== (config.mail_user === undefined)) {
          const missing = config.mail_type === undefined ? 'mail_type' : 'mail_user';
          const given = missing === 'mail_type' ? 'mail_user' : 'mail_type';
          zctx.addIssue({
            code: 'custom',
            path: [given],
            input: config,
            message: `${given} needs ${missing}: give both or neither`,
          });
        }
        const problem = timeoutBeyondLimit(config.timeout, config.time_limit);
        if (problem !== undefined)
          zctx.addIssue({ code: 'custom', path: ['timeout'], input: config, message: problem });
      },
      { when: () => true },
    );
}

/** Why a timeout cannot apply within the job's time_limit, or undefined when it can. */
function timeoutBeyondLimit(timeout: unknown, timeLimit: unknown): string | undefined {
  if (typeof timeout !== 'number' || typeof timeLimit !== 'string') return undefined;
  if (!TIME_LIMIT_PATTERN.test(timeLimit)) return undefined;
  const limit = timeLimitSeconds(timeLimit);
  // A zero limit is refused at time_limit itself.
  if (timeout <= limit || limit === 0) return undefined;
  return `timeout ${formatDuration(timeout)} is longer than time_limit "${timeLimit}" (${formatDuration(limit)}): Slurm ends the job at its time_limit first. Shorten timeout to ${formatDuration(limit)} or less, raise time_limit, or leave timeout out`;
}

export type SlurmConfig = z.output<ReturnType<typeof slurmConfigSchema>>;
export type SlurmContainer = NonNullable<SlurmConfig['container']>;
export type { ApptainerContainerConfig, DockerContainerConfig };
