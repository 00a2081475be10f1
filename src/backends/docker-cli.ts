import { memoryBytes } from '../config/fields.js';
import { VERSION } from '../package-info.js';
import { secretFilePath } from '../secret-files.js';
import type { DockerContainerConfig } from './docker-config.js';
import { invokingIdentity, LABELS } from './docker-spec.js';
import { resolveCommand, wrapMpi } from './model-command.js';
import type { RunJob } from './types.js';

/** The env file a `docker run` in a batch job reads: mode 0600 under .modelrun/, never values on the command line. */
export function dockerEnvFilePath(stagingDir: string): string {
  return secretFilePath(stagingDir, 'docker');
}

/** Docker's --env-file format: NAME=value per line, taken literally, so a value cannot span lines. */
export function dockerEnvFileText(env: Record<string, string>): string {
  for (const [name, value] of Object.entries(env)) {
    if (/[\r\n]/.test(value))
      throw new Error(`${name}: docker --env-file cannot carry a value with a line break`);
  }
  return Object.entries(env)
    .map(([name, value]) => `${name}=${value}\n`)
    .join('');
}

/**
 * `docker run …` for a container started by a batch job on a compute node,
 * with the docker CLI there: the same settings the docker backend gives its
 * containers through the API.
 */
export function dockerRunArgv(
  container: DockerContainerConfig,
  job: RunJob,
  workingDir: string | undefined,
  env: Record<string, string>,
): string[] {
  const command = wrapMpi(
    resolveCommand(container.executable, job),
    container.mpiexec,
    container.cpu,
  );
  const { uid, gid } = invokingIdentity();
  const memory = container.memory === undefined ? undefined : String(memoryBytes(container.memory));
  return [
    'docker',
    'run',
    ...(container.remove_container ? ['--rm'] : []),
    '--init',
    '--label',
    `${LABELS.runId}=${job.runId}`,
    '--label',
    `${LABELS.stagingDir}=${job.stagingDir}`,
    '--label',
    `${LABELS.version}=${VERSION}`,
    '--pull',
    container.pull_policy,
    '--user',
    container.user ?? `${uid}:${gid}`,
    '--volume',
    `${workingDir ?? job.stagingDir}:${container.mount_path}:rw`,
    ...(container.volumes ?? []).flatMap((v) => [
      '--volume',
      `${v.source}:${v.target}${v.mode === undefined ? '' : `:${v.mode}`}`,
    ]),
    '--workdir',
    container.mount_path,
    ...(Object.keys(env).length === 0 ? [] : ['--env-file', dockerEnvFilePath(job.stagingDir)]),
    ...(container.cpu === undefined ? [] : ['--cpus', String(container.cpu)]),
    ...(memory === undefined ? [] : ['--memory', memory, '--memory-swap', memory]),
    ...(container.shm_size === undefined
      ? []
      : ['--shm-size', String(memoryBytes(container.shm_size))]),
    '--network',
    container.network,
    ...(container.gpus === undefined ? [] : ['--gpus', gpusFlag(container.gpus)]),
    container.image,
    '/bin/sh',
    '-c',
    command,
  ];
}

function gpusFlag(gpus: NonNullable<DockerContainerConfig['gpus']>): string {
  if (gpus === 'all' || typeof gpus === 'number') return String(gpus);
  return `"device=${gpus.join(',')}"`;
}
