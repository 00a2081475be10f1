import { join } from 'node:path';
import { ConfigError } from '../../errors.js';
import { shellQuote } from '../../exec/shell.js';
import { VERSION } from '../../package-info.js';
import { isSecretName, Redactor } from '../../secrets.js';
import { envFilePath } from '../containers/apptainer-env.js';
import type { RunJob } from '../contract.js';
import { resolveCommand } from '../model-command.js';
import type { SlurmConfig } from './config.js';
import { containerAsApptainer, containerJobCommand } from './container.js';
import { sbatchExport } from './export.js';
import { literalInPattern } from './filename.js';
import { ARRAY_TASK_ID_VARIABLE, JOB_EXIT_NAME, SCRIPT_NAME } from './script-name.js';
import { sbatchQuote, scriptTextProblem } from './text.js';

/** Where the batch script is kept, beside the run's inputs and outputs, for reproducibility. */
export function scriptPath(stagingDir: string): string {
  return join(stagingDir, SCRIPT_NAME);
}

/**
 * The job's variables that stay out of the script, with their values: those
 * with a secret name, and those whose value holds a secret's value
 * (`OTHER: ${API_TOKEN}`), by the rule that masks it in run.json and the dry
 * run. `hostEnv` is modelrun's own environment, whose secret-named values
 * count as secrets too. sbatch gets them in its environment and passes them
 * to the job by name (see sbatchExport); a container in the job takes them
 * from the job's environment by name.
 */
export function secretEnv(
  config: SlurmConfig,
  hostEnv: Record<string, string | undefined> = {},
): Record<string, string> {
  const known = new Redactor().addSecretsOf(config).addEnv(hostEnv);
  return Object.fromEntries(
    Object.entries(config.env_vars ?? {}).filter(
      ([name, value]) => isSecretName(name) || known.redact(value) !== value,
    ),
  );
}

export function outputPattern(config: SlurmConfig, job: RunJob): string {
  return config.output_file ?? inStagingDir(job, 'slurm-%j.out');
}

export function errorPattern(config: SlurmConfig, job: RunJob): string {
  return config.error_file ?? inStagingDir(job, 'slurm-%j.err');
}

/** A default log pattern under the staging dir's logs/, whose path Slurm takes as written. */
function inStagingDir(job: RunJob, name: string): string {
  return join(literalInPattern(job.stagingDir, name), 'logs', name);
}

export function jobName(config: SlurmConfig, job: RunJob): string {
  return config.job_name ?? `modelrun-${job.runId}`;
}

/** The command the job runs: the model's own, or through the container on the compute node. */
export function jobCommand(
  config: SlurmConfig,
  job: RunJob,
  containerCommand: string | undefined,
): string {
  if (containerCommand !== undefined) return containerCommand;
  return resolveCommand(config.command, job, '`command:` in the slurm backend config');
}

/**
 * The batch script: #SBATCH lines from the config, every value quoted as
 * sbatch reads it back; the environment exported with exact quoting; then
 * the command. Secret variables (see secretEnv) are named in a comment but
 * not written: sbatch passes them to the job from its own environment, so
 * the script holds no secret and --dry-run shows it exactly as submitted.
 */
export function batchScript(
  config: SlurmConfig,
  job: RunJob,
  command: string,
  hostEnv: Record<string, string | undefined> = {},
): string {
  const staging = 'the staging directory';
  const directives: Parameters<typeof directiveLines>[0] = [
    ['job-name', jobName(config, job), 'job_name'],
    [
      'output',
      outputPattern(config, job),
      config.output_file === undefined ? staging : 'output_file',
    ],
    ['error', errorPattern(config, job), config.error_file === undefined ? staging : 'error_file'],
    [
      'chdir',
      config.working_dir ?? job.stagingDir,
      config.working_dir === undefined ? staging : 'working_dir',
    ],
    ...resourceDirectives(config),
  ];
  const env = Object.entries(config.env_vars ?? {});
  const secret = Object.keys(secretEnv(config, hostEnv));
  return [
    '#!/bin/bash',
    `# Written by modelrun ${VERSION} for run ${job.runId}; submitted with sbatch --parsable.`,
    ...directiveLines(directives),
    ...optionLines(config),
    '',
    ...env
      .filter(([name]) => !secret.includes(name))
      .map(([name, value]) => `export ${name}=${shellQuote(value)}`),
    ...(secret.length > 0
      ? [`# ${secret.join(', ')}: from sbatch's environment, passed by name (--export)`]
      : []),
    ...keepingExitStatus(command, job.stagingDir),
    '',
  ].join('\n');
}

/** What the job asks of the cluster: where it queues, what it takes, whom it mails; the same for every member of an array. */
export function resourceDirectives(config: SlurmConfig): Parameters<typeof directiveLines>[0] {
  return [
    ['partition', config.queue, 'queue'],
    ['nodes', config.nodes, 'nodes'],
    ['ntasks', config.ntasks, 'ntasks'],
    ['cpus-per-task', config.cpus_per_task, 'cpus_per_task'],
    ['mem', config.mem, 'mem'],
    ['mem-per-cpu', config.mem_per_cpu, 'mem_per_cpu'],
    ['time', config.time_limit, 'time_limit'],
    ['account', config.account, 'account'],
    ['qos', config.qos, 'qos'],
    ['reservation', config.reservation, 'reservation'],
    ['constraint', config.constraint, 'constraint'],
    ['gres', config.gres, 'gres'],
    ['gpus', config.gpus, 'gpus'],
    ['mail-type', config.mail_type?.join(','), 'mail_type'],
    ['mail-user', config.mail_user, 'mail_user'],
  ];
}

/** `--exclusive` and the additional options, as #SBATCH lines. */
export function optionLines(config: SlurmConfig): string[] {
  return [
    ...(config.exclusive ? ['#SBATCH --exclusive'] : []),
    ...(config.additional_options ?? []).map(
      (option, i) => `#SBATCH ${optionWords(option, `additional_options[${i}]`)}`,
    ),
  ];
}

/** `#SBATCH --name=value` lines, each value quoted as sbatch reads it back; those without a value left out. */
export function directiveLines(
  directives: [name: string, value: string | number | undefined, field: string][],
): string[] {
  return directives
    .filter(([, value]) => value !== undefined)
    .map(([name, value, field]) => `#SBATCH --${name}=${scriptValue(String(value), field)}`);
}

/**
 * The command in a subshell, whatever it does (`exit 3`, `exec`, a heredoc
 * left open), read from a variable so that nothing in it can reach the
 * lines after it; then its exit status kept as `<job id> <status>` in .modelrun/job-exit, for
 * whoever records the job's end once Slurm has forgotten it (without
 * accounting, a few minutes after). Written to a new file and renamed into
 * place, so that nothing a model left there is written through, and only
 * into a .modelrun folder that is not a link.
 */
function keepingExitStatus(command: string, stagingDir: string): string[] {
  return [
    '# The command runs in a subshell; its exit status is kept in .modelrun/job-exit.',
    `modelrun_command=${shellQuote(command)}`,
    "# Slurm's SIGTERM (scancel, the time limit) is the command's to answer. These shells wait for the",
    '# command to end, then end by the same signal: none of its processes loses its parent here, which',
    '# with proctrack/linuxproc would hide it from the SIGKILL that follows.',
    "trap 'modelrun_signalled=1' TERM",
    '( trap \'exit 143\' TERM; eval "$modelrun_command" )',
    'modelrun_status=$?',
    'if [ -n "${modelrun_signalled:-}" ]; then trap - TERM; kill -TERM $$; fi',
    `modelrun_dir=${shellQuote(join(stagingDir, '.modelrun'))}`,
    'if [ -d "$modelrun_dir" ] && [ ! -L "$modelrun_dir" ] && modelrun_exit=$(mktemp "$modelrun_dir/job-exit.XXXXXX" 2>/dev/null); then',
    `  { printf '%s %s\\n' "\${${ARRAY_TASK_ID_VARIABLE}:-\${SLURM_JOB_ID:-}}" "$modelrun_status" > "$modelrun_exit" && mv -fT "$modelrun_exit" "$modelrun_dir/${JOB_EXIT_NAME}"; } 2>/dev/null || rm -f "$modelrun_exit"`,
    'fi',
    'exit "$modelrun_status"',
  ];
}

/**
 * A value quoted for an #SBATCH line. Validation refuses line breaks in the
 * fields; this also stops one that comes from elsewhere (the staging dir's
 * own path) from ending the #SBATCH lines.
 */
function scriptValue(value: string, field: string): string {
  const problem = scriptTextProblem(value);
  if (problem === undefined) return sbatchQuote(value);
  const fromStaging = field === 'the staging directory';
  throw new ConfigError(`${fromStaging ? field : `\`${field}\``} ${problem}`, {
    hint: fromStaging
      ? 'run the model from a folder whose path has no control characters, or set output_file, error_file and working_dir'
      : `remove the character from \`${field}\``,
  });
}

/**
 * An additional option as sbatch reads it: `--name="value"` for a long one,
 * and `-x "value"` for a short one, which sbatch would read as `=value` if
 * written with `=`.
 */
function optionWords(option: string, field: string): string {
  const equals = option.indexOf('=');
  if (equals === -1) return option;
  const name = option.slice(0, equals);
  const value = scriptValue(option.slice(equals + 1), field);
  return name.startsWith('--') ? `${name}=${value}` : `${name} ${value}`;
}

/**
 * sbatch's arguments: the names of the secret variables (whose values go in
 * its environment, see secretEnv), never their values, and the script.
 */
export function sbatchArgs(
  config: SlurmConfig,
  job: RunJob,
  hostEnv: Record<string, string | undefined> = {},
): string[] {
  const option = sbatchExport(config, Object.keys(secretEnv(config, hostEnv)), hostEnv);
  return ['--parsable', ...(option === undefined ? [] : [option]), scriptPath(job.stagingDir)];
}

// The container part of the job's command lives in container.ts.
export { containerAsApptainer, containerJobCommand as containerCommand, envFilePath };
