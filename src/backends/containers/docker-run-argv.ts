import { memoryBytes } from '../../config/fields.js';
import {
  type ContainerSettings,
  type DockerRunOptions,
  type GpuRequest,
  mountSpec,
} from './settings.js';

/**
 * `docker run …` for a container started by a batch job on a compute node,
 * with the docker CLI there: the same settings the docker backend gives its
 * containers through the API. Variables go by name only (`-e NAME`): the
 * docker CLI takes their values from its own environment, the job's, so no
 * value is on the command line or in a file.
 */
export function dockerRunArgv(
  settings: ContainerSettings & { docker: DockerRunOptions },
): string[] {
  const memory = settings.memory === undefined ? undefined : String(memoryBytes(settings.memory));
  return [
    'docker',
    'run',
    ...(settings.docker.remove ? ['--rm'] : []),
    '--init',
    ...Object.entries(settings.labels).flatMap(([name, value]) => ['--label', `${name}=${value}`]),
    '--pull',
    settings.docker.pull,
    ...(settings.user === undefined ? [] : ['--user', settings.user]),
    '--volume',
    `${settings.runDir}:${settings.mountPath}:rw`,
    ...settings.mounts.flatMap((mount) => ['--volume', mountSpec(mount)]),
    '--workdir',
    settings.workdir,
    ...Object.keys(settings.env).flatMap((name) => ['--env', name]),
    ...(settings.cpus === undefined ? [] : ['--cpus', String(settings.cpus)]),
    // Swap equal to memory: no swap on top of the limit, as in the docker backend.
    ...(memory === undefined ? [] : ['--memory', memory, '--memory-swap', memory]),
    ...(settings.shmSize === undefined
      ? []
      : ['--shm-size', String(memoryBytes(settings.shmSize))]),
    ...(settings.network === undefined ? [] : ['--network', settings.network]),
    ...(settings.gpus === undefined ? [] : ['--gpus', gpusFlag(settings.gpus)]),
    settings.image,
    '/bin/sh',
    '-c',
    settings.command,
  ];
}

function gpusFlag(gpus: GpuRequest): string {
  if (gpus === 'all' || typeof gpus === 'number') return String(gpus);
  return `"device=${gpus.join(',')}"`;
}
