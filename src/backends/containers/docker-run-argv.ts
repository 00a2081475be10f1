import { memoryBytes } from '../../config/fields.js';
import { VERSION } from '../../package-info.js';
import type { RunJob } from '../contract.js';
import type { DockerContainerConfig } from '../docker/config.js';
import { resolveCommand, wrapMpi } from '../model-command.js';
import { invokingIdentity, LABELS } from './engine-spec.js';

/** The container's CPU and memory limits, as `docker run` takes them. */
export interface DockerLimits {
  cpus?: number;
  memoryBytes?: number;
}

/**
 * `docker run …` for a container started by a batch job on a compute node,
 * with the docker CLI there: the same settings the docker backend gives its
 * containers through the API. Variables go by name only (`-e NAME`): the
 * docker CLI takes their values from its own environment, the job's, so no
 * value is on the command line or in a file.
 */
export function dockerRunArgv(
  container: DockerContainerConfig,
  job: RunJob,
  workingDir: string | undefined,
  envNames: string[],
  limits: DockerLimits = ownLimits(container),
): string[] {
  const command = wrapMpi(
    resolveCommand(container.executable, job),
    container.mpiexec,
    container.cpu,
  );
  const { uid, gid } = invokingIdentity();
  const memory = limits.memoryBytes === undefined ? undefined : String(limits.memoryBytes);
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
    ...envNames.flatMap((name) => ['--env', name]),
    ...(limits.cpus === undefined ? [] : ['--cpus', String(limits.cpus)]),
    // Swap equal to memory: no swap on top of the limit, as in the docker backend.
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

/** The limits the container block sets itself. */
export function ownLimits(container: DockerContainerConfig): DockerLimits {
  return {
    ...(container.cpu === undefined ? {} : { cpus: container.cpu }),
    ...(container.memory === undefined ? {} : { memoryBytes: memoryBytes(container.memory) }),
  };
}

function gpusFlag(gpus: NonNullable<DockerContainerConfig['gpus']>): string {
  if (gpus === 'all' || typeof gpus === 'number') return String(gpus);
  return `"device=${gpus.join(',')}"`;
}
