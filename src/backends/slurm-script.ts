import { join } from 'node:path';
import { VERSION } from '../package-info.js';
import { maskEnv } from '../secrets.js';
import { buildApptainerArgv, envFilePath } from './apptainer-command.js';
import type { ApptainerConfig } from './apptainer-config.js';
import { dockerRunArgv } from './docker-cli.js';
import { resolveCommand } from './model-command.js';
import { shellQuote, shellWord } from './shell.js';
import type { DockerContainerConfig, SlurmConfig } from './slurm-config.js';
import type { RunJob } from './types.js';

/** Where the batch script is kept, beside the run's inputs and outputs, for reproducibility. */
export function scriptPath(stagingDir: string): string {
  return join(stagingDir, 'slurm-job.sh');
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
  containerCommand: string[] | undefined,
): string {
  if (containerCommand !== undefined) return containerCommand.map(shellWord).join(' ');
  return resolveCommand(config.command, job, '`command:` in the slurm backend config');
}

/**
 * The batch script: #SBATCH lines from the config, the environment exported
 * with exact quoting, then the command. With `masked`, secret values read
 * *** (for --dry-run); the script submitted has the real ones.
 */
export function batchScript(
  config: SlurmConfig,
  job: RunJob,
  command: string,
  options: { masked: boolean },
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
  const env = config.env_vars ?? {};
  const shown = options.masked ? maskEnv(env) : env;
  return [
    '#!/bin/bash',
    `# Written by modelrun ${VERSION} for run ${job.runId}; submitted with sbatch --parsable.`,
    ...directives
      .filter(([, value]) => value !== undefined)
      .map(([name, value]) => `#SBATCH --${name}=${value}`),
    ...(config.exclusive ? ['#SBATCH --exclusive'] : []),
    ...(config.additional_options ?? []).map((option) => `#SBATCH ${option}`),
    '',
    ...Object.entries(shown).map(([name, value]) => `export ${name}=${shellQuote(value)}`),
    command,
    '',
  ].join('\n');
}

/** The apptainer config a Slurm job's container block stands for: its settings plus the run-wide ones. */
export function containerAsApptainer(config: SlurmConfig): ApptainerConfig | undefined {
  const container = config.container;
  if (container?.type !== 'apptainer') return undefined;
  return {
    ...(container as Omit<ApptainerConfig, 'timeout'>),
    timeout: config.timeout,
    ...(config.env_vars === undefined ? {} : { env_vars: config.env_vars }),
    ...(config.working_dir === undefined ? {} : { working_dir: config.working_dir }),
  } as ApptainerConfig;
}

/** The argv of the container command in the job, given the resolved apptainer image. */
export function containerCommand(
  config: SlurmConfig,
  job: RunJob,
  apptainerImage: string | undefined,
): string[] | undefined {
  const container = config.container;
  if (container === undefined) return undefined;
  const withCommand: RunJob = { ...job, modelCommand: config.command ?? job.modelCommand };
  if (container.type === 'apptainer') {
    return buildApptainerArgv(
      containerAsApptainer(config) as ApptainerConfig,
      withCommand,
      apptainerImage ?? '',
    );
  }
  return dockerRunArgv(
    container as DockerContainerConfig,
    withCommand,
    config.working_dir,
    config.env_vars ?? {},
  );
}

export { envFilePath };
