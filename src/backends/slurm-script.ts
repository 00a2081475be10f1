import { join } from 'node:path';
import { VERSION } from '../package-info.js';
import { secretFilePath } from '../secret-files.js';
import { isSecretName, Redactor } from '../secrets.js';
import { envFilePath } from './apptainer-command.js';
import { resolveCommand } from './model-command.js';
import { shellQuote } from './shell.js';
import type { SlurmConfig } from './slurm-config.js';
import { containerAsApptainer, containerJobCommand } from './slurm-container.js';
import type { RunJob } from './types.js';

/** Where the batch script is kept, beside the run's inputs and outputs, for reproducibility. */
export function scriptPath(stagingDir: string): string {
  return join(stagingDir, 'slurm-job.sh');
}

/**
 * Where the job reads the values of its secret variables from: mode 0600
 * under .modelrun/, removed once the job has ended. Not in the script, which
 * is kept with the run and which Slurm stores (and may archive) as it is.
 */
export function secretsFilePath(stagingDir: string): string {
  return secretFilePath(stagingDir, 'slurm');
}

/**
 * The job's variables that stay out of the script, as the secrets file holds
 * them: those with a secret name, and those whose value holds a secret's
 * value (`OTHER: ${API_TOKEN}`), by the rule that masks it in run.json and
 * the dry run. `hostEnv` is modelrun's own environment, whose secret-named
 * values count as secrets too.
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

/** The secrets file's text: `export NAME='value'` lines the script sources. */
export function secretsFileText(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([name, value]) => `export ${name}=${shellQuote(value)}\n`)
    .join('');
}

export function outputPattern(config: SlurmConfig, job: RunJob): string {
  return config.output_file ?? join(job.stagingDir, 'logs', 'slurm-%j.out');
}

export function errorPattern(config: SlurmConfig, job: RunJob): string {
  return config.error_file ?? join(job.stagingDir, 'logs', 'slurm-%j.err');
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
 * The batch script: #SBATCH lines from the config, the environment exported
 * with exact quoting, then the command. Secret variables (see secretEnv) are
 * sourced from the secrets file, so the script holds no secret and --dry-run
 * shows it exactly as it is submitted.
 */
export function batchScript(
  config: SlurmConfig,
  job: RunJob,
  command: string,
  hostEnv: Record<string, string | undefined> = {},
): string {
  const directives: [string, string | number | undefined][] = [
    ['job-name', jobName(config, job)],
    ['output', outputPattern(config, job)],
    ['error', errorPattern(config, job)],
    ['chdir', config.working_dir ?? job.stagingDir],
    ['partition', config.queue],
    ['nodes', config.nodes],
    ['ntasks', config.ntasks],
    ['cpus-per-task', config.cpus_per_task],
    ['mem', config.mem],
    ['mem-per-cpu', config.mem_per_cpu],
    ['time', config.time_limit],
    ['account', config.account],
    ['qos', config.qos],
    ['reservation', config.reservation],
    ['constraint', config.constraint],
    ['gres', config.gres],
    ['gpus', config.gpus],
    ['mail-type', config.mail_type?.join(',')],
    ['mail-user', config.mail_user],
  ];
  const env = Object.entries(config.env_vars ?? {});
  const secret = Object.keys(secretEnv(config, hostEnv));
  const secrets = secretsFilePath(job.stagingDir);
  return [
    '#!/bin/bash',
    `# Written by modelrun ${VERSION} for run ${job.runId}; submitted with sbatch --parsable.`,
    ...directives
      .filter(([, value]) => value !== undefined)
      .map(([name, value]) => `#SBATCH --${name}=${value}`),
    ...(config.exclusive ? ['#SBATCH --exclusive'] : []),
    ...(config.additional_options ?? []).map((option) => `#SBATCH ${option}`),
    '',
    ...env
      .filter(([name]) => !secret.includes(name))
      .map(([name, value]) => `export ${name}=${shellQuote(value)}`),
    ...(secret.length > 0
      ? [
          `# ${secret.join(', ')}: from a file only you can read, removed when the job ends`,
          `. ${shellQuote(secrets)} || exit 1`,
        ]
      : []),
    command,
    '',
  ].join('\n');
}

// The container part of the job's command lives in slurm-container.ts.
export { containerAsApptainer, containerJobCommand as containerCommand, envFilePath };
