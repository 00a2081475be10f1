import { MIN_MEMORY_LIMIT_BYTES, memoryBytes } from '../../config/fields.js';
import { shellQuote, shellWord } from '../../exec/shell.js';
import { containerEnv } from '../containers/apptainer-env.js';
import { buildApptainerArgv } from '../containers/apptainer-exec.js';
import type { ApptainerSettingsFields } from '../containers/apptainer-settings.js';
import { DEFAULT_DOCKER_HOST } from '../containers/docker-host.js';
import { dockerRunArgv } from '../containers/docker-run-argv.js';
import { dockerSettings } from '../containers/docker-settings.js';
import { LABELS } from '../containers/labels.js';
import type { RunJob } from '../contract.js';
import type { ApptainerContainerConfig, DockerContainerConfig, SlurmConfig } from './config.js';
import { ARRAY_TASK_ID_VARIABLE } from './script-name.js';
import type { JobContainers } from './undo.js';

/** The container's CPU and memory limits, as `docker run` takes them. */
export interface DockerLimits {
  cpus?: number;
  memoryBytes?: number;
}

/**
 * Seconds a docker container in a cancelled job has between SIGTERM and
 * SIGKILL: it must be stopped and removed within Slurm's KillWait (30 s by
 * default, often less), after which Slurm kills the script that does it.
 */
export const DOCKER_STOP_SECONDS = 2;

/** A Slurm job's apptainer block with the run-wide fields it takes from the job: env_vars and working_dir. */
export function containerAsApptainer(config: SlurmConfig): ApptainerSettingsFields | undefined {
  const container = config.container;
  return container?.type === 'apptainer' ? withJobFields(container, config) : undefined;
}

function withJobFields(
  container: ApptainerContainerConfig,
  config: SlurmConfig,
): ApptainerSettingsFields {
  return {
    ...container,
    ...(config.env_vars === undefined ? {} : { env_vars: config.env_vars }),
    ...(config.working_dir === undefined ? {} : { working_dir: config.working_dir }),
  };
}

/**
 * What the apptainer env file of a Slurm job holds: the container's own
 * defaults (PYTHONNOUSERSITE) only. env_vars reach the container by name,
 * from the job's environment (see containerJobCommand), so no value of
 * theirs is written to a file.
 */
export function apptainerFileEnv(apptainer: ApptainerSettingsFields): Record<string, string> {
  const byName = new Set(Object.keys(apptainer.env_vars ?? {}));
  return Object.fromEntries(
    Object.entries(containerEnv(apptainer)).filter(([name]) => !byName.has(name)),
  );
}

/**
 * Slurm's memory size in bytes: K, M, G or T are powers of 1024, and a
 * number without a unit is megabytes, as sbatch reads --mem.
 */
export function slurmMemoryBytes(size: string): number {
  const unit = /[KMGT]$/i.exec(size)?.[0]?.toUpperCase() ?? 'M';
  return Number.parseInt(size, 10) * 1024 ** (1 + 'KMGT'.indexOf(unit));
}

/**
 * The limits a docker container in the job gets: the container block's own
 * `cpu` and `memory` when it sets them, else the job's `cpus_per_task` and
 * `mem` (or `mem_per_cpu` × `cpus_per_task`). The container runs outside the
 * job's cgroup, so without these it could use the whole node. With several
 * tasks the job's share of the batch node is not known from the config, and
 * nothing is derived.
 */
export function dockerJobLimits(
  config: SlurmConfig,
  container: DockerContainerConfig,
): DockerLimits {
  const own: DockerLimits = {
    ...(container.cpu === undefined ? {} : { cpus: container.cpu }),
    ...(container.memory === undefined ? {} : { memoryBytes: memoryBytes(container.memory) }),
  };
  if ((config.ntasks ?? 1) > 1) return own;
  const cpus = config.cpus_per_task;
  const memory =
    config.mem !== undefined
      ? slurmMemoryBytes(config.mem)
      : config.mem_per_cpu !== undefined
        ? slurmMemoryBytes(config.mem_per_cpu) * (cpus ?? 1)
        : undefined;
  return {
    ...(cpus === undefined ? {} : { cpus }),
    // Docker refuses a limit under its minimum; the job's own limit still holds then.
    ...(memory === undefined || memory < MIN_MEMORY_LIMIT_BYTES ? {} : { memoryBytes: memory }),
    ...own,
  };
}

/**
 * The lines of the batch script that run the command in the job's
 * container, given the resolved apptainer image; undefined without one.
 * Both containers take env_vars by name from the job's environment, where
 * the script has put them, so that secret values are never in argv (where
 * `ps` shows them) nor in a file.
 */
export function containerJobCommand(
  config: SlurmConfig,
  job: RunJob,
  apptainerImage: string | undefined,
): string | undefined {
  const container = config.container;
  if (container === undefined) return undefined;
  const withCommand: RunJob = { ...job, modelCommand: config.command ?? job.modelCommand };
  const names = Object.keys(config.env_vars ?? {});
  if (container.type === 'apptainer') {
    const apptainer = withJobFields(container, config);
    // Apptainer passes <PREFIX>NAME into the container as NAME, even with --cleanenv.
    const prefix = apptainer.binary === 'singularity' ? 'SINGULARITYENV_' : 'APPTAINERENV_';
    return [
      ...names.map((name) => `export ${prefix}${name}="$${name}"`),
      buildApptainerArgv(apptainer, withCommand, apptainerImage ?? '')
        .map(shellWord)
        .join(' '),
    ].join('\n');
  }
  const settings = dockerSettings(
    { ...container, env_vars: config.env_vars, working_dir: config.working_dir },
    withCommand,
    container.image,
  );
  // The job's limits stand in for the block's own (see dockerJobLimits); bytes without a unit, as docker reads them.
  const limits = dockerJobLimits(config, container);
  const argv = dockerRunArgv({
    ...settings,
    cpus: limits.cpus,
    memory: limits.memoryBytes === undefined ? undefined : String(limits.memoryBytes),
  });
  return dockerJobLines(container, job, argv.slice(2));
}

/**
 * Slurm signals the processes of the job, so scancel and the time limit stop
 * the `docker run` client but not the container, which the engine runs. So
 * the container has a name the script knows, `docker run` runs in the
 * background, and the script waits: a TERM from Slurm then runs the trap at
 * once, which stops the container (TERM, then KILL after a grace), removes
 * it unless it is kept, and ends the script by that same signal.
 */
function dockerJobLines(container: DockerContainerConfig, job: RunJob, runArgs: string[]): string {
  const remove = container.remove_container
    ? '\n  docker rm --force "$modelrun_container" >/dev/null 2>&1'
    : '';
  return [
    '# The container runs beside the job, not in it: on TERM from Slurm (scancel, time limit), stop it.',
    `modelrun_container=${shellQuote(`modelrun-${job.runId}-`)}"$(printf %04x%04x $RANDOM $RANDOM)"`,
    'modelrun_stop() {',
    `  docker stop --time ${DOCKER_STOP_SECONDS} "$modelrun_container" >/dev/null 2>&1`,
    // Then the client has ended; a container it created meanwhile is removed too.
    `  wait${remove}`,
    '}',
    // $BASHPID, not $$: the command runs in a subshell of the script (see keepingExitStatus).
    "trap 'modelrun_stop; trap - TERM; kill -TERM $BASHPID' TERM",
    [
      'docker run --name "$modelrun_container"',
      // An array task's id as modelrun names it (ARRAY_TASK_ID_VARIABLE), else the job's.
      `--label "${LABELS.slurmJobId}=\${${ARRAY_TASK_ID_VARIABLE}:-$SLURM_JOB_ID}"`,
      ...runArgs.map(shellWord),
      '&',
    ].join(' '),
    'wait $!',
  ].join('\n');
}

/**
 * What the guardian needs to remove the job's docker container should
 * modelrun die: the engine the job's docker CLI uses (the job inherits
 * DOCKER_HOST from modelrun, as sbatch exports its environment) and the
 * label the container carries. Nothing for a job without one.
 */
export function jobContainers(
  config: SlurmConfig,
  jobId: string,
  env: Record<string, string | undefined>,
): { containers?: JobContainers } {
  const sweep = containerSweep(config, env);
  return sweep === undefined
    ? {}
    : { containers: { ...sweep, label: `${LABELS.slurmJobId}=${jobId}` } };
}

/** The engine and rule of the docker containers a job's script starts, before the job has an id. */
export function containerSweep(
  config: SlurmConfig,
  env: Record<string, string | undefined>,
): { engine: string; remove: boolean } | undefined {
  const container = config.container;
  if (container?.type !== 'docker') return undefined;
  return { engine: env.DOCKER_HOST || DEFAULT_DOCKER_HOST, remove: container.remove_container };
}
