import type { RunJob } from '../contract.js';
import { resolveCommand, wrapMpi } from '../model-command.js';
import type { DockerContainerFields } from './docker-fields.js';
import { runLabels } from './labels.js';
import {
  type ContainerSettings,
  type DockerRunOptions,
  invokingIdentity,
  type RunWideFields,
} from './settings.js';

export interface DockerSettingsOptions {
  /** Whom the container runs as when the config names no user. */
  identity?: { uid: number; gid: number };
  /** The backend's own command field, named in the hint when there is no command at all. */
  ownField?: string;
}

/**
 * The settings of a docker container: the docker backend's config, or a
 * Slurm job's docker block with the job's env_vars and working_dir. The
 * MPI launcher runs inside the container, so it is part of the command.
 */
export function dockerSettings(
  config: DockerContainerFields & RunWideFields,
  job: RunJob,
  image: string,
  { identity = invokingIdentity(), ownField }: DockerSettingsOptions = {},
): ContainerSettings & { docker: DockerRunOptions } {
  return {
    image,
    command: wrapMpi(resolveCommand(config.executable, job, ownField), config.mpiexec, config.cpu),
    runDir: config.working_dir ?? job.stagingDir,
    mountPath: config.mount_path,
    mounts: config.volumes ?? [],
    workdir: config.mount_path,
    env: config.env_vars ?? {},
    // Files the model writes to the bind mount belong to whoever runs modelrun, not to root.
    user: config.user ?? `${identity.uid}:${identity.gid}`,
    cpus: config.cpu,
    memory: config.memory,
    shmSize: config.shm_size,
    gpus: config.gpus,
    network: config.network,
    labels: runLabels(job),
    docker: { remove: config.remove_container, pull: config.pull_policy },
  };
}
