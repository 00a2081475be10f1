/**
 * The sbatch options a slurm config's `additional_options` may not carry:
 * those a field already sets (the later line would silently win over the
 * field), and those that break how modelrun submits and follows one job.
 */
const FIELD_OF_OPTION: Record<string, string> = {
  '--partition': 'queue',
  '-p': 'queue',
  '--nodes': 'nodes',
  '-N': 'nodes',
  '--ntasks': 'ntasks',
  '-n': 'ntasks',
  '--cpus-per-task': 'cpus_per_task',
  '-c': 'cpus_per_task',
  '--mem': 'mem',
  '--mem-per-cpu': 'mem_per_cpu',
  '--time': 'time_limit',
  '-t': 'time_limit',
  '--account': 'account',
  '-A': 'account',
  '--qos': 'qos',
  '-q': 'qos',
  '--reservation': 'reservation',
  '--constraint': 'constraint',
  '-C': 'constraint',
  '--gres': 'gres',
  '--gpus': 'gpus',
  '-G': 'gpus',
  '--exclusive': 'exclusive',
  '--job-name': 'job_name',
  '-J': 'job_name',
  '--output': 'output_file',
  '-o': 'output_file',
  '--error': 'error_file',
  '-e': 'error_file',
  '--mail-type': 'mail_type',
  '--mail-user': 'mail_user',
  '--chdir': 'working_dir',
  '-D': 'working_dir',
};

const ARRAY =
  'modelrun follows one job per run, and the tasks of an array would share one staging dir; run modelrun once per task, each with its own run_id';
const WAITS = 'modelrun already follows the job until it ends';
const UNFOLLOWABLE: Record<string, string> = {
  '--array': ARRAY,
  '-a': ARRAY,
  '--wait': WAITS,
  '-W': WAITS,
  '--parsable': 'modelrun submits with --parsable already',
  '--test-only':
    'it submits nothing for modelrun to follow; `modelrun run --dry-run` prints the batch script',
};

/** Why `option` (as written, `--name=value`) cannot go in additional_options, or undefined. */
export function forbiddenOptionProblem(option: string): string | undefined {
  const name = option.split('=', 1)[0] ?? option;
  const field = FIELD_OF_OPTION[name];
  if (field !== undefined)
    return `${name} is set by the field \`${field}\`: use that field instead`;
  const reason = UNFOLLOWABLE[name];
  return reason === undefined ? undefined : `${name} cannot be used: ${reason}`;
}

/** The same rule in words, for an editor, which cannot name the field. */
export const FORBIDDEN_OPTION_RULE =
  'is an option that a field of this file sets (--partition is queue, --time is time_limit, ...) or one that breaks following one job (--array, --wait); use the field, or leave it out';

/** The same rule as a pattern, for the JSON Schema: an option whose name is one of these. */
export const FORBIDDEN_OPTION_PATTERN = `^(?:${[...Object.keys(FIELD_OF_OPTION), ...Object.keys(UNFOLLOWABLE)].join('|')})(?:=|$)`;
